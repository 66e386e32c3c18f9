"Linear probes on extracted features: the quality floor of the default encoders (shared by tests and the README)."
import numpy as np
from cmwb.data import load_manifest
from cmwb.features import extract
from cmwb.scenario import modality_items

def probe_accuracy(manifest, modality:str, domains=None) -> float:
    "Accuracy on the test split of a logistic-regression probe trained on the train split (standardised features)."
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    m = load_manifest(manifest) if not hasattr(manifest, 'items') else manifest
    fs = extract(m, modalities=[modality], progress=False)[modality]
    (itr, ytr), (ite, yte) = modality_items(m, modality, 'train', domains=domains), modality_items(m, modality, 'test', domains=domains)
    Xtr, Xte = fs.rows(itr).flatten(1).numpy(), fs.rows(ite).flatten(1).numpy()
    sc = StandardScaler().fit(Xtr)
    clf = LogisticRegression(max_iter=3000, C=0.5).fit(sc.transform(Xtr), ytr.numpy())
    return float(clf.score(sc.transform(Xte), yte.numpy()))
