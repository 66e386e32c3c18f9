"""How much each time segment of a modality's stored features says about the concept: per segment, the share of items
whose segment is nearest (Euclidean) to their own concept's mean segment over the training items, on the training and
on the test split. Segments of padding or silence sit near chance (1 / concepts).
    python tools/segment_accuracy.py data/digitsmm-full audio logmel logmel-sounding
reads DATA/items.jsonl and the stored features DATA/features/*/MODALITY-ENCODER-*/ (made by `cmwb extract` or a run)."""
import glob, json, re, sys
from pathlib import Path
import torch
from cmwb.features import open_features

def concept_and_split(folder:str, modality:str) -> dict:
    "Item id -> (concept, split) for the modality's items of the manifest in `folder`."
    rows = (json.loads(line) for line in open(f'{folder}/items.jsonl'))
    return {r['id']: (r['concept'], r['split']) for r in rows if r['modality'] == modality}

def segment_accuracy(fs, items:dict) -> list:
    "Per segment: (training accuracy, test accuracy) of the nearest training-mean rule."
    concepts = sorted({c for c, _ in items.values()})
    label = torch.tensor([concepts.index(items[i][0]) for i in fs.ids])
    train = torch.tensor([items[i][1] == 'train' for i in fs.ids])
    x = fs.seq.float()
    out = []
    for t in range(x.shape[1]):
        means = torch.stack([x[train & (label == c), t].mean(0) for c in range(len(concepts))])
        hit = torch.cdist(x[:, t], means).argmin(1) == label
        out.append((float(hit[train].float().mean()), float(hit[~train].float().mean())))
    return out

if __name__ == '__main__':
    folder, modality, encoders = sys.argv[1], sys.argv[2], sys.argv[3:]
    items = concept_and_split(folder, modality)
    for enc in encoders:
        name = re.compile(rf'{re.escape(modality)}-{re.escape(enc)}-[0-9a-f]{{16}}')
        found = [Path(p).parent for p in glob.glob(f'{folder}/features/*/*/index.json') if name.fullmatch(Path(p).parent.name)]
        if len(found) != 1:
            sys.exit(f"{len(found)} stored {modality} feature sets of encoder {enc} under {folder}/features: need one "
                     f"({', '.join(map(str, found)) or 'extract them first'})")
        acc = segment_accuracy(open_features(found[0]), items)
        print(f"{enc}: " + ' | '.join(f"segment {t}: train {a:.2f} test {b:.2f}" for t, (a, b) in enumerate(acc)))
