#!/usr/bin/env bash
# A method's ablations on DigitsMM (ci by default), 5 seeds each (SEEDS): one `cmwb compare` per variant (its switches), then
# one table of every variant with paired tests against the full method (OUT/results.md), from cmwb.tables.
#   bash tools/compare_ablations.sh [comet|cma|comm|comet-cmg] [ci|full]   (comet by default; `ci` or `full` alone: comet)
#   CONFIG=fashionsound bash tools/compare_ablations.sh cma         (another config of configs/)
# comet-cmg runs on configs/digitsmm-seq-cmg.yaml by default (CMG's parts need sequences and CMG's recipe); the data
# is the config name's first word (digitsmm-seq-cmg: digitsmm).
# OUT defaults to runs/ablations-SIZE for comet, runs/ablations-METHOD-SIZE for the others (with -CONFIG before
# -SIZE for a config other than digitsmm). SEEDS (0,1,2,3,4 by default) names the seeds, split over two workers.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-0,1,2,3,4}
IFS=, read -ra ALL_SEEDS <<< "$SEEDS"
# worker one takes the 1st, 3rd, ... seed, worker two the others
FIRST=$(printf '%s\n' "${ALL_SEEDS[@]}" | awk 'NR % 2 == 1' | paste -sd, -)
SECOND=$(printf '%s\n' "${ALL_SEEDS[@]}" | awk 'NR % 2 == 0' | paste -sd, -)
export PATH="$PWD/.venv/bin:$PATH" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
METHOD=comet
case "${1:-}" in
  comet|cma|comm|comet-cmg) METHOD=$1; shift ;;
esac
SIZE=${1:-ci}
if [ "$METHOD" = comet-cmg ]; then CONFIG=${CONFIG:-digitsmm-seq-cmg}; else CONFIG=${CONFIG:-digitsmm}; fi
DATA=${CONFIG%%-*}
TAG=$SIZE; [ "$CONFIG" != digitsmm ] && TAG=$CONFIG-$SIZE
if [ "$METHOD" = comet ]; then OUT=${OUT:-runs/ablations-$TAG}; else OUT=${OUT:-runs/ablations-$METHOD-$TAG}; fi

# Each variant: a name, then the config switches it changes ("all": the full method, the reference).
# PMR, the dead-code reset, the EMA of grown codes and `mediator_codes` (which needs `grow: false`) are off by default,
# so their variants turn them on. EXTRA variants run too but stay out of the main table: PMR on
# slowed codes (where earlier codes move), read against slowed codes without it (OUT/pmr-slowed/results.md), and the
# codebook losses off, read against the full method (OUT/codebook-losses/results.md).
COMET_VARIANTS=(
  "all"
  "pmr method_settings.pmr=code"
  "no-growth method_settings.grow=false"
  "no-cmoe method_settings.cmoe=false"
  "no-freeze method_settings.freeze=false"
  "slowed-codes method_settings.old_code_rate=0.1"
  "no-centre method_settings.center_codes=false"
  "no-partner method_settings.partner_codes=0"
  "reset method_settings.dead_after=50"
  "grown-ema method_settings.grown_code_rate=1"
  "mediator-codes method_settings.mediator_codes=true method_settings.grow=false"
)
COMET_EXTRA=("slowed-pmr method_settings.old_code_rate=0.1 method_settings.pmr=code"
             "no-codebook-losses method_settings.commit=0 method_settings.cmcm=0")
CMA_VARIANTS=(
  "all"
  "no-context method_settings.context=none"
  "pair-context method_settings.context=pair"
  "newest-router method_settings.mediator_router=newest"
  "no-relation method_settings.relation=0"
)
# COMET's continual parts on CMG's model, each switched off alone, and CMoE and PMR (off by default) each turned on
# (`freeze` acts only where an earlier modality other than the mediator returns, which DigitsMM's stages never do:
# 08f_comet_cmg). EXTRA: PMR where the mediator still trains, read against that variant without it
# (OUT/pmr-mediator-trains/results.md).
COMET_CMG_VARIANTS=(
  "all"
  "cmoe method_settings.cmoe=true"
  "pmr method_settings.pmr=linear"
  "no-growth method_settings.grow=false"
  "no-freeze-codes method_settings.freeze_old_codes=false"
  "no-freeze-mediator method_settings.freeze_mediator=false"
  "no-keep-codes method_settings.keep_codes=false"
)
COMET_CMG_EXTRA=("no-freeze-mediator-pmr method_settings.freeze_mediator=false method_settings.pmr=linear")
COMM_VARIANTS=(
  "all"
  "labels train.supervision=labels"
  "no-realign method_settings.realign=0"
  "agnostic method_settings.agnostic=true"
  "no-aggregate method_settings.aggregate=false"
  "no-self-reg method_settings.self_reg=0"
)
EXTRA=()
case "$METHOD" in
  comet) VARIANTS=("${COMET_VARIANTS[@]}"); EXTRA=("${COMET_EXTRA[@]}") ;;
  cma) VARIANTS=("${CMA_VARIANTS[@]}") ;;
  comm) VARIANTS=("${COMM_VARIANTS[@]}") ;;
  comet-cmg) VARIANTS=("${COMET_CMG_VARIANTS[@]}"); EXTRA=("${COMET_CMG_EXTRA[@]}") ;;
esac

for v in "${VARIANTS[@]}" "${EXTRA[@]}"; do
  set -- $v
  name=$1; shift
  extra=(); for s in "$@"; do extra+=(--set "$s"); done
  run=(cmwb compare "$CONFIG" --methods "$METHOD" --set data=$DATA:$SIZE "${extra[@]}" --out "$OUT/$name")
  "${run[@]}" --seeds "$FIRST" > /dev/null &
  if [ -n "$SECOND" ]; then "${run[@]}" --seeds "$SECOND" > /dev/null; fi
  wait
  "${run[@]}" --seeds "$SEEDS" > /dev/null      # the variant's own table over all its seeds (the runs are reused)
done
# one table of every variant, paired against the full method
tables=()
for v in "${VARIANTS[@]}"; do set -- $v; tables+=("$METHOD-$1=$OUT/$1/$METHOD-s*"); done
python tools/variants_table.py "$OUT" "$METHOD-all" "${tables[@]}"
if [ "$METHOD" = comet ]; then
  # PMR where it can act: slowed codes with PMR against slowed codes without it
  python tools/variants_table.py "$OUT/pmr-slowed" comet-slowed-codes "comet-slowed-codes=$OUT/slowed-codes/comet-s*" \
    "comet-slowed-pmr=$OUT/slowed-pmr/comet-s*"
  # the codebook losses (commitment and CMCM) off, read against the full method alone (added after the ten variants'
  # table was made and described: in that table it would change the Holm correction of every other row)
  python tools/variants_table.py "$OUT/codebook-losses" comet-all "comet-all=$OUT/all/comet-s*" \
    "comet-no-codebook-losses=$OUT/no-codebook-losses/comet-s*"
fi
if [ "$METHOD" = comet-cmg ]; then
  # PMR where the mediator trains: without freezing the mediator, with PMR against without it
  python tools/variants_table.py "$OUT/pmr-mediator-trains" comet-cmg-no-freeze-mediator \
    "comet-cmg-no-freeze-mediator=$OUT/no-freeze-mediator/comet-cmg-s*" \
    "comet-cmg-no-freeze-mediator-pmr=$OUT/no-freeze-mediator-pmr/comet-cmg-s*"
fi
