"""PyTorch CPU reference for bench-train (`--compare-torch PYTHON`): the same models and training step.

Usage: PYTHON bench/train/torch-step.py --arch cnn,scnn2 --batch 64 [--threads 1] [--warmup-seconds 2]
           [--min-seconds 3] [--min-steps 5] [--max-steps 2000]
Prints one JSON document: {"torch": version, "threads": n, "rows": [{arch, batch, images_per_s,
median_step_ms, steps, warmup_steps}]}.

The models mirror worker/models/ (42x28x1 input, two 10-way heads): 3x3 'same' convs with ReLU, 3x3
stride-1 'same' max-pools (padding 1, which is what TensorFlow's 'same' is for that window), 2x2
stride-2 pools, depthwise-separable convs (depthwise 3x3, multiplier 1, then a 1x1 pointwise with the
bias and ReLU, as tf.layers.separableConv2d), the crops of rows 0-27 and 14-41, shared towers where
hpo shares them. The step is the trainer's: forward in training mode, mean softmax cross-entropy of the
top digit plus that of the bottom digit, backward, Adam (lr 0.001). Images and labels are random
(speed does not depend on the values). Timing as bench-train: untimed warm-up (>= 2 steps and
--warmup-seconds), then the median of at least --min-steps steps and --min-seconds.
"""

import argparse
import json
import statistics
import time

import torch
from torch import nn

CLASSES = 10


def conv(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU()]


def pool_keep():
    return [nn.MaxPool2d(3, stride=1, padding=1)]


def pool_shrink():
    return [nn.MaxPool2d(2, stride=2)]


def separable(cin, cout):
    return [
        nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False),
        nn.Conv2d(cin, cout, 1),
        nn.ReLU(),
    ]


def conv_tower():
    return conv(1, 32) + pool_keep() + conv(32, 64) + pool_keep() + conv(64, 64) + pool_keep()


def separable_tower():
    return (
        separable(1, 32) + pool_shrink() + separable(32, 64) + pool_shrink() + separable(64, 64) + pool_shrink()
    )


def features(layers, h, w):
    """A Sequential of `layers` and flatten, with the flattened size for an h x w input."""
    seq = nn.Sequential(*layers, nn.Flatten())
    with torch.no_grad():
        n = seq(torch.zeros(1, 1, h, w)).shape[1]
    return seq, n


class Whole(nn.Module):
    """A tower on the whole 42x28 image, two dense heads (cnn, cnn2, mlp)."""

    def __init__(self, layers):
        super().__init__()
        self.tower, n = features(layers, 42, 28)
        self.top = nn.Linear(n, CLASSES)
        self.bottom = nn.Linear(n, CLASSES)

    def forward(self, x):
        f = self.tower(x)
        return self.top(f), self.bottom(f)


class Split(nn.Module):
    """Rows 0-27 and 14-41 through one shared tower and head (scnn2, scnn3) or one each (scnn)."""

    def __init__(self, make_layers, shared):
        super().__init__()
        self.tower_top, n = features(make_layers(), 28, 28)
        self.head_top = nn.Linear(n, CLASSES)
        if shared:
            self.tower_bottom, self.head_bottom = self.tower_top, self.head_top
        else:
            self.tower_bottom, _ = features(make_layers(), 28, 28)
            self.head_bottom = nn.Linear(n, CLASSES)

    def forward(self, x):
        top = self.head_top(self.tower_top(x[:, :, 0:28, :]))
        bottom = self.head_bottom(self.tower_bottom(x[:, :, 14:42, :]))
        return top, bottom


def scnn_layers():
    return conv(1, 32) + pool_keep() + conv(32, 64) + pool_keep()


ARCHS = {
    "mlp": lambda: Whole([nn.Flatten(), nn.Linear(42 * 28, 64), nn.ReLU()]),
    "mlp_linear": lambda: Whole([nn.Flatten(), nn.Linear(42 * 28, 64)]),
    "cnn": lambda: Whole(conv_tower()),
    "cnn2": lambda: Whole(separable_tower()),
    "scnn": lambda: Split(scnn_layers, shared=False),
    "scnn2": lambda: Split(conv_tower, shared=True),
    "scnn3": lambda: Split(separable_tower, shared=True),
}


def measure(arch, batch, opts):
    torch.manual_seed(1)
    model = ARCHS[arch]()
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(batch, 1, 42, 28)
    top = torch.randint(0, CLASSES, (batch,))
    bottom = torch.randint(0, CLASSES, (batch,))

    def step():
        t0 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        lt, lb = model(x)
        loss = loss_fn(lt, top) + loss_fn(lb, bottom)
        loss.backward()
        optimizer.step()
        return (time.perf_counter() - t0) * 1000

    warm, warm_ms = 0, 0.0
    while warm < 2 or warm_ms < opts.warmup_seconds * 1000:
        warm_ms += step()
        warm += 1
    times = []
    while len(times) < opts.max_steps and (len(times) < opts.min_steps or sum(times) < opts.min_seconds * 1000):
        times.append(step())
    median = statistics.median(times)
    return {
        "arch": arch,
        "batch": batch,
        "images_per_s": batch / (median / 1000),
        "median_step_ms": median,
        "steps": len(times),
        "warmup_steps": warm,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", required=True)
    p.add_argument("--batch", required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup-seconds", type=float, default=2)
    p.add_argument("--min-seconds", type=float, default=3)
    p.add_argument("--min-steps", type=int, default=5)
    p.add_argument("--max-steps", type=int, default=2000)
    opts = p.parse_args()
    torch.set_num_threads(opts.threads)
    torch.set_num_interop_threads(1)
    rows = []
    for arch in opts.arch.split(","):
        if arch not in ARCHS:
            p.error(f"unknown architecture {arch!r}; expected one of {', '.join(ARCHS)}")
        for batch in (int(b) for b in opts.batch.split(",")):
            rows.append(measure(arch, batch, opts))
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "rows": rows}))


if __name__ == "__main__":
    main()
