#!/usr/bin/env bash
# The README's pictures, drawn by adcli itself (needs Graphviz and the plot extra).
set -euo pipefail
cd "$(dirname "$0")"
adcli graph "x*sigmoid(x)/(x**2+1)" --at 2 -o seed-graph.png
adcli graph "apple*n*tax" --at apple=100,n=2,tax=1.1 -o apple-graph.svg
adcli plot "x*sigmoid(x)/(x**2+1)" --range -10:10 -o seed-plot.png
