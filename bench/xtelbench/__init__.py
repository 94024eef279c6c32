# SPDX-License-Identifier: MIT
"""The XTel benchmark suite as a package; bench/suite.py is its entry point.

Modules, each importing only those above it in this list:

  config    the suite's fixed choices: port, levels, labels, sender section
  util      logging, dotted-path lookup in reports, number formatting
  env       paths, namespaces and what the build can do; run metadata
  counters  the collector namespace's kernel drop counters
  commands  the argv of every receiver and sender
  procs     process control and measurement: readiness, stop, CPU, memory
  derive    a row's table figures from its reports and counters (the loss
            attribution docs/PERFORMANCE.md publishes); no I/O
  rows      the plan of rows, running one row, running them all
  capacity  the receivers' own ceiling: pre-fill a frozen receiver, time
            its drain (CPU per datagram), callgrind instruction counts
  micro     the micro-benchmarks registered in meson suite 'perf'
  figures   figures computed across rows (summary, sender ceilings, memory)
  capreport the capacity section of PERFORMANCE.md
  markdown  PERFORMANCE.md
  plots     the gnuplot PNGs
  api       the HTTP API's cost (--api)
  scaleout  edges -> NATS JetStream -> aggregator (--scaleout; uses api's
            collector and loadgen helpers)
  rxopts    the receive-path options against the default (--rxopts; uses
            capacity's drain row and rows' end-to-end row)
  aggonce   the aggregator's exactly-once memory (--agg-once)
  abcol     two collector builds alternated on the DTLS capacity rows
            (--ab-dtls) or the many-clients plain rows (--ab-plain); uses
            capacity's drain row and scale's options
  main      the command line and the output files
"""
