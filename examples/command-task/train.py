#!/usr/bin/env python3
# The Python twin of train.mjs (for the docs): hpo runs it as `python3 train.py --lr=0.01 ...` when a
# sweep file says `program: train.py`, and reads one JSON line per epoch from stdout.
import argparse, json, math, os, time

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--batch_size", type=int, default=32)
parser.add_argument("--epochs", type=int, default=5)
args = parser.parse_args()
seed = int(os.environ.get("HPO_SEED", "1"))

print(f"training trial {os.environ.get('HPO_TRIAL_ID')} with lr={args.lr}", flush=True)
for epoch in range(1, args.epochs + 1):
    time.sleep(0.05)  # stands in for an epoch of real work
    floor = (math.log10(args.lr) + 2) ** 2 / 4 + abs(math.log2(args.batch_size / 64)) / 10
    noise = (((seed * 9301 + epoch * 49297) % 233280) / 233280 - 0.5) * 0.01
    validation_loss = floor + 1 / (epoch + 1) + noise
    print(json.dumps({"epoch": epoch, "validation_loss": validation_loss}), flush=True)
