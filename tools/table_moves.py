"""How far a results table moved between two draws of its runs (another machine, another commit): means and marks.
    python tools/table_moves.py OLD.md NEW.md [--skip cmg]
Reads the first `cmwb compare` table in each Markdown file (`results.md`, or a saved copy of a README's table), pairs
the rows by method and the figures by column, and prints: every ▲/▼ mark the old table had that the new one does
not (lost), every new one, how many held; the largest moves of a mean; and how many means moved by more than the
larger of their two 95% CI half-widths. Chance columns and train time are left out. `--skip` leaves methods out of
the counts (e.g. one at chance, whose figures are noise)."""
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

def mean_and_half_width(cell:str) -> tuple[float, float]:
    "A 'mean ± half-width' cell's two numbers (a '(1 run)' cell has half-width 0)."
    parts = cell.split()
    return float(parts[0]), float(parts[2]) if len(parts) > 2 and parts[1] == '±' else 0.

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('old')
    ap.add_argument('new')
    ap.add_argument('--skip', default='', help='comma-separated methods left out of the counts')
    a = ap.parse_args()
    head, old = first_table(a.old)
    _, new = first_table(a.new)
    skip = set(filter(None, a.skip.split(',')))
    figures = [c for c in head[3:] if 'chance' not in c and 'time' not in c]
    held, lost, gained, moves = 0, [], [], []
    for m in old:
        if m not in new or m in skip:
            continue
        for col in figures:
            before, after = old[m].get(col, '–'), new[m].get(col, '–')
            if '–' in (before, after):
                continue
            if mark(before) and mark(before) == mark(after):
                held += 1
            elif mark(before):
                lost.append((m, col, before, after))
            elif mark(after):
                gained.append((m, col, before, after))
            (x, hx), (y, hy) = mean_and_half_width(before), mean_and_half_width(after)
            moves.append((abs(y - x), max(hx, hy), m, col, before, after))
    print(f"marks: {held} held, {len(lost)} lost, {len(gained)} new (methods left out: {', '.join(sorted(skip)) or 'none'})")
    for kind, items in (('lost', lost), ('new', gained)):
        for m, col, before, after in items:
            print(f"  {kind}: {m}, {col}: {before} -> {after}")
    moves.sort(reverse=True)
    beyond = sum(d > h for d, h, *_ in moves)
    print(f"means: {len(moves)} compared, {beyond} moved by more than the larger of their two 95% CI half-widths")
    for d, h, m, col, before, after in moves[:5]:
        print(f"  {d:.3f} (half-width {h:.3f}): {m}, {col}: {before} -> {after}")

if __name__ == '__main__':
    main()
