"""How much each time segment of a modality's stored features says about the concept: per segment, a linear probe
(standardised features, logistic regression) fitted on the training items and scored on the test items. Segments of
padding or silence sit near chance (1 / concepts).
    python tools/segment_accuracy.py data/digitsmm-full audio logmel logmel-sounding
reads DATA/items.jsonl and the stored features DATA/features/*/MODALITY-ENCODER-*/ (made by `cmwb extract` or a run)."""
import glob, json, re, sys
from pathlib import Path
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from cmwb.features import open_features

def concept_and_split(folder:str, modality:str) -> dict:
    "Item id -> (concept, split) for the modality's items of the manifest in `folder`."
    rows = (json.loads(line) for line in open(f'{folder}/items.jsonl'))
    return {r['id']: (r['concept'], r['split']) for r in rows if r['modality'] == modality}

def segment_accuracy(fs, items:dict) -> list:
    "Per segment: the test accuracy of a linear probe fitted on the training items' segment."
    label = [items[i][0] for i in fs.ids]
    train = [items[i][1] == 'train' for i in fs.ids]
    x = fs.seq.float().numpy()
    pick = lambda rows, keep: [r for r, k in zip(rows, train) if k == keep]
    out = []
    for t in range(x.shape[1]):
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        probe.fit(pick(x[:, t], True), pick(label, True))
        out.append(float(probe.score(pick(x[:, t], False), pick(label, False))))
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
        print(f"{enc}: test accuracy per segment " + ' / '.join(f"{a:.2f}" for a in acc))
