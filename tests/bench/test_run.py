#!/usr/bin/env python3
"""Checks of tests/bench/run's measuring code (not of the numbers it measures).

The forwarding baseline (issue 13): tests/bench/forwarding_ratio.sh printed "testpmd 0.00 Mpps"
when a loaded machine delayed testpmd's statistics past its kill timeout, and compared testpmd's
best period with our whole-run average. A fake dpdk-testpmd on PATH prints its statistics like
the real one (cumulative counters, a slow start-up, one slow period, a best period far above the
rest): the rate must be the slope of the forwarded count after the warm-up second.
  test_run.py
"""
import os
import stat
import sys
import tempfile
import textwrap
import unittest
from importlib.machinery import SourceFileLoader

HERE = os.path.dirname(os.path.abspath(__file__))
run = SourceFileLoader("bench_run", os.path.join(HERE, "run")).load_module()

FAKE = textwrap.dedent("""\
    #!/usr/bin/env python3
    # Fake dpdk-testpmd: 2.5 s start-up, then statistics every 0.5 s (cumulative TX-packets of
    # port 1 grow by 500,000 per 0.5 s = 1 Mpps), with one burst period of 5,000,000.
    import signal, sys, time
    signal.signal(signal.SIGINT, lambda *a: sys.exit(0))
    time.sleep(2.5)
    tx = 0
    for i in range(60):
        tx += 5000000 if i == 1 else 500000
        print("Port statistics ====================================")
        print("  ######################## NIC statistics for port 0  ########################")
        print("  RX-packets: %d     RX-missed: 0          RX-bytes:  0" % (tx * 3))
        print("  TX-packets: 0          TX-errors: 0          TX-bytes:  0")
        print("  Rx-pps:     %d" % (10000000 if i == 1 else 1000000))
        print("  ######################## NIC statistics for port 1  ########################")
        print("  RX-packets: 0          RX-missed: 0          RX-bytes:  0")
        print("  TX-packets: %d     TX-errors: 0          TX-bytes:  0" % tx, flush=True)
        time.sleep(0.5)
""")


class TestpmdRate(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        path = os.path.join(self.dir, "dpdk-testpmd")
        with open(path, "w") as f:
            f.write(FAKE)
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
        self.old_path = os.environ["PATH"]
        os.environ["PATH"] = self.dir + os.pathsep + self.old_path

    def tearDown(self):
        os.environ["PATH"] = self.old_path

    def test_slope_after_warmup_not_best_period(self):
        mpps = run.testpmd_rate("/nonexistent.pcap", 2.0)
        # Port 1's TX count, the burst period inside the warm-up second: 1 Mpps. (The best Rx-pps
        # period would say 10; port 0's RX count 3.)
        self.assertGreater(mpps, 0.85)
        self.assertLess(mpps, 1.15)


class Slope(unittest.TestCase):
    def test_warmup_is_skipped_and_counts_are_cumulative(self):
        samples = [(0.0, 0), (0.5, 9_000_000), (1.0, 9_500_000), (2.0, 10_500_000),
                   (3.0, 11_500_000)]
        self.assertAlmostEqual(run.slope(samples, 1.0), 1_000_000)

    def test_too_few_samples_is_zero_not_an_error(self):
        self.assertEqual(run.slope([], 1.0), 0.0)
        self.assertEqual(run.slope([(0.0, 5)], 1.0), 0.0)


if __name__ == "__main__":
    sys.exit(unittest.main())
