"""The pieces under the Training tab: the metrics and log tails, run states, stopping a
child that ignores SIGTERM, and the line chart's decimation."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from desktop.models.run_metrics import FileTail, MetricsTail, RunMetrics, effective_state

pytestmark = pytest.mark.gui


def test_tail_reads_appended_lines_incrementally(tmp_path):
    path = tmp_path / "metrics.jsonl"
    tail = MetricsTail(path, max_chunk=64)
    assert tail.poll() == ([], False)  # no file yet
    line = json.dumps({"event": "train", "step": 1, "loss": 2.5, "lr": 0.1}) + "\n"
    with open(path, "w") as f:
        f.write(line[:20])  # a line half written
    assert tail.poll() == ([], False)
    assert tail.offset == 20
    with open(path, "a") as f:
        f.write(line[20:])
        f.write("not json\n")
        for step in range(2, 7):
            f.write(json.dumps({"event": "train", "step": step, "loss": 3.0 - step / 10}) + "\n")
    got, polls = [], 0
    while tail.pending() or polls == 0:
        before = tail.offset
        new, reset = tail.poll()
        assert not reset and tail.offset - before <= 64  # never more than one chunk a poll
        got += new
        polls += 1
    assert [e["step"] for e in got] == [1, 2, 3, 4, 5, 6]
    assert polls > 3 and tail.bad_lines == 1
    assert tail.offset == path.stat().st_size
    metrics = RunMetrics()
    metrics.feed(got)
    assert metrics.final_loss == pytest.approx(2.4) and metrics.lr == {1: 0.1}
    path.write_text(json.dumps({"event": "start", "step": 0, "total_steps": 9}) + "\n")
    new, reset = tail.poll()  # the file was replaced: start over
    assert reset and new == [{"event": "start", "step": 0, "total_steps": 9}]


def test_log_tail_joins_mid_file_without_a_fragment(tmp_path):
    log = tmp_path / "train.log"
    log.write_bytes(b"first line\nsecond line\n")
    at_end = FileTail(log, start=log.stat().st_size)
    mid = FileTail.last_bytes(log, 8)  # starts inside "second line"
    with open(log, "ab") as f:
        f.write(b"third line\n")
    assert at_end.lines() == ([b"third line"], False)
    assert mid.lines() == ([b"third line"], False)


def test_a_running_state_whose_process_is_gone_reads_interrupted(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert effective_state({"state": "running", "pid": gone.pid}) == "interrupted"
    code = "import time; print('ready', flush=True); time.sleep(60)"
    # "trainer" in its command line, as a real trainer's has; wait until it runs that line.
    alive = subprocess.Popen([sys.executable, "-c", code, "trainer"], stdout=subprocess.PIPE)
    assert alive.stdout.readline().strip() == b"ready"
    try:
        assert effective_state({"state": "running", "pid": alive.pid}) == "running"
    finally:
        alive.kill()
        alive.communicate()
    assert effective_state({"state": "done", "pid": gone.pid}) == "done"
    assert effective_state({}) == "new"


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell script stands in")
def test_stop_kills_a_child_that_ignores_terminate(qtbot, tmp_path):
    from desktop.workers.trainer_process import TrainerProcess

    stubborn = tmp_path / "stubborn-python"
    # Ignores SIGTERM, as a child stuck in native code can; `exec` so the kill reaches it.
    stubborn.write_text("#!/bin/sh\ntrap '' TERM\necho ready\nexec sleep 60\n")
    stubborn.chmod(0o755)
    proc = TrainerProcess(grace_ms=300)
    lines: list[str] = []
    proc.output.connect(lines.extend)
    proc.start(str(stubborn), tmp_path / "c.yaml")
    qtbot.waitUntil(lambda: "ready" in lines, timeout=10_000)
    pid = proc.pid()
    with qtbot.waitSignal(proc.finished, timeout=10_000) as done:
        proc.stop()
    assert done.args[1] == "stopped" and not proc.running()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_line_chart_keeps_a_spike_of_a_long_series(qtbot):
    from desktop.views.line_chart import LineChart, nice_ticks

    assert nice_ticks(0, 1, 5) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(1e-4, 2e-4, 4) == pytest.approx([1e-4, 1.5e-4, 2e-4])
    chart = LineChart("loss")
    qtbot.addWidget(chart)
    chart.resize(400, 200)
    points = [(float(i), 1.0) for i in range(50_000)]
    points[25_000] = (25_000.0, 10.0)  # one step among 50,000: narrower than a pixel
    chart.set_series("loss", points, "#ff0000")
    chart.show()
    qtbot.waitExposed(chart)
    image = chart.grab().toImage()
    row = LineChart.MARGIN_T + 10  # near the top of the plot: only the spike reaches it
    colours = [image.pixelColor(x, row) for x in range(LineChart.MARGIN_L + 2, image.width() - 14)]
    assert any(c.red() - c.green() > 100 for c in colours), "the spike was decimated away"


def test_compare_overlays_a_run_that_failed_before_step_1(qtbot, tmp_path):
    """One run with a loss curve and one that failed before its first step: the table lists
    both, the chart draws the one curve (it used to raise IndexError painting the empty one)."""
    from desktop.views.run_compare import RunCompare

    good, failed = tmp_path / "run-good", tmp_path / "run-failed"
    for folder in (good, failed):
        folder.mkdir()
    (good / "status.json").write_text(json.dumps({"state": "done"}))
    (good / "metrics.jsonl").write_text(
        "".join(
            json.dumps({"event": "train", "step": s, "loss": 2.0 / s}) + "\n" for s in (1, 2, 3)
        )
    )
    (failed / "status.json").write_text(json.dumps({"state": "failed", "error": "out of memory"}))
    compare = RunCompare(tmp_path)
    qtbot.addWidget(compare)
    compare.resize(600, 400)
    compare.show()
    compare.refresh()
    qtbot.waitUntil(lambda: compare.table.rowCount() == 2 and not compare.busy(), timeout=10_000)
    compare.select(compare.runs)
    assert {r.name for r in compare.selected_runs()} == {"run-good", "run-failed"}
    assert compare.chart.point_count() == 3
    compare.chart.grab()  # paints both series
