"""How far a results table moved between two draws of its runs (another machine, another commit): means and marks.
    python tools/table_moves.py OLD.md NEW.md [--skip cmg]
Reads the first `cmwb compare` table in each Markdown file (`results.md`, or a saved copy of a README's table), pairs
the rows by method and the figures by column, and prints: every ▲/▼ mark the old table had that the new one does
not (lost) and every mark the new one has that the old did not (new; a flip ▲ → ▼ counts as both), how many held;
the means that moved most against their 95% CI half-widths; and how many moved by more than the larger of their two
half-widths. It names what it cannot pair: methods in one table only, cells that are '–' in one table only, and
methods whose run counts differ. Chance columns and train time are left out. `--skip` leaves methods out of the
counts (e.g. one at chance, whose figures are noise). Agreement between two draws on the same seeds and data filters
rounding, not the seeds' own variation."""
import argparse

def first_table(path:str) -> tuple[list, dict]:
    "(column names, method -> {column: cell}) of the first results table in the Markdown file at `path`."
    lines = open(path, encoding='utf-8').read().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith('| method |')), None)
    if start is None:
        raise SystemExit(f"{path}: no results table (a line starting '| method |')")
    head = [c.strip() for c in lines[start].strip('|').split('|')]
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith('| '):
            break
        cells = [c.strip() for c in line.strip('|').split('|')]
        rows[cells[0]] = dict(zip(head, cells))
    return head, rows

def mark(cell:str) -> str:
    "The cell's significance mark ('▲', '▼' or '')."
    return '▲' if '▲' in cell else '▼' if '▼' in cell else ''

def mean_and_half_width(cell:str) -> tuple[float, float|None]:
    "A 'mean ± half-width' cell's two numbers (a '(1 run)' cell has none: None)."
    parts = cell.split()
    return float(parts[0]), float(parts[2]) if len(parts) > 2 and parts[1] == '±' else None

def compare_tables(old:tuple, new:tuple, skip:set=frozenset()) -> dict:
    "Marks held, lost and new, the means' moves, and what could not be paired, between two tables ((head, rows) each)."
    (head, a), (_, b) = old, new
    figures = [c for c in head[3:] if 'chance' not in c and 'time' not in c]
    out = dict(held=0, lost=[], new=[], moves=[], unpaired=[], runs=[])
    out['unpaired'] += [f"{m}: only in the old table" for m in a if m not in b and m not in skip]
    out['unpaired'] += [f"{m}: only in the new table" for m in b if m not in a and m not in skip]
    for m in a:
        if m not in b or m in skip:
            continue
        if a[m].get('runs') != b[m].get('runs'):
            out['runs'].append(f"{m}: {a[m].get('runs')} runs -> {b[m].get('runs')}")
        for col in figures:
            before, after = a[m].get(col, '–'), b[m].get(col, '–')
            if (before == '–') != (after == '–'):
                out['unpaired'].append(f"{m}, {col}: {before} -> {after}")
            if '–' in (before, after):
                continue
            if mark(before) and mark(before) == mark(after):
                out['held'] += 1
            if mark(before) and mark(before) != mark(after):
                out['lost'].append((m, col, before, after))
            if mark(after) and mark(after) != mark(before):
                out['new'].append((m, col, before, after))
            (x, hx), (y, hy) = mean_and_half_width(before), mean_and_half_width(after)
            widths = [h for h in (hx, hy) if h is not None]
            half = max(widths) if widths else None
            move = round(abs(y - x), 6)                     # the cells' three decimals, without float residue
            ratio = move / half if half else float('inf') if move else 0.
            out['moves'].append((ratio, move, half, m, col, before, after))
    out['moves'].sort(key=lambda t: (-t[0], -t[1]))
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('old')
    ap.add_argument('new')
    ap.add_argument('--skip', default='', help='comma-separated methods left out of the counts')
    a = ap.parse_args()
    skip = set(filter(None, a.skip.split(',')))
    r = compare_tables(first_table(a.old), first_table(a.new), skip)
    print(f"marks: {r['held']} held, {len(r['lost'])} lost, {len(r['new'])} new (methods left out: {', '.join(sorted(skip)) or 'none'})")
    for kind in ('lost', 'new'):
        for m, col, before, after in r[kind]:
            print(f"  {kind}: {m}, {col}: {before} -> {after}")
    for note in r['unpaired'] + r['runs']:
        print(f"  not paired: {note}")
    beyond = sum(ratio > 1 for ratio, *_ in r['moves'])
    print(f"means: {len(r['moves'])} compared, {beyond} moved by more than the larger of their two 95% CI half-widths "
          f"(a single run has none: any move of it counts)")
    for ratio, d, half, m, col, before, after in r['moves'][:5]:
        width = f"{half:.3f}" if half else 'none'
        print(f"  {ratio:.2f} of the half-width (move {d:.3f}, half-width {width}): {m}, {col}: {before} -> {after}")

if __name__ == '__main__':
    main()
