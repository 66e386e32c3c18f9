"""How much each time segment of a modality's features says about the concept: per segment, a linear probe
(standardised features, logistic regression) fitted on the training items and scored on the test items. Segments of
padding or silence sit near chance (1 / concepts).
    python tools/segment_accuracy.py digitsmm:full audio logmel logmel-sounding
DATA is what a config's `data:` takes (benchmark:size, built if needed, or a manifest path); each encoder's features
come from the feature store, extracted first if they are not there."""
import sys
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from cmwb.data import resolve_manifest
from cmwb.features import extract_modality, open_features

def segment_accuracy(fs, items:dict) -> list:
    "Per segment of the features `fs`: the test accuracy of a linear probe fitted on the training items (`items`: id -> Item)."
    label = [items[i].concept for i in fs.ids]
    train = [items[i].split == 'train' for i in fs.ids]
    x = fs.seq.float().numpy()
    pick = lambda rows, keep: [r for r, k in zip(rows, train) if k == keep]
    out = []
    for t in range(x.shape[1]):
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        probe.fit(pick(x[:, t], True), pick(label, True))
        out.append(float(probe.score(pick(x[:, t], False), pick(label, False))))
    return out

if __name__ == '__main__':
    data, modality, encoders = sys.argv[1], sys.argv[2], sys.argv[3:]
    m = resolve_manifest(data)
    items = {it.id: it for it in m.items if it.modality == modality}
    for enc in encoders:
        acc = segment_accuracy(open_features(extract_modality(m, modality, enc, progress=False)), items)
        print(f"{enc}: test accuracy per segment " + ' / '.join(f"{a:.2f}" for a in acc))
