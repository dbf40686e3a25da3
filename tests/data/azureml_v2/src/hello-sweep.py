"""Prints its arguments and logs a random metric."""

import argparse
import random

from hypersweep import Run

parser = argparse.ArgumentParser()
parser.add_argument("--A", type=float, default=0.5)
parser.add_argument("--B", type=str, default="hello world")
parser.add_argument("--C", type=float, default=1.0)
args = parser.parse_args()
print(f"A: {args.A}  B: {args.B}  C: {args.C}")
Run.get_context().log("random_metric", random.random())
