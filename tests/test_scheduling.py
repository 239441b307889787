"""The suite's own schedule: which tests travel together, and no long test queued behind another."""

from __future__ import annotations

from types import SimpleNamespace

import timings

from conftest import SuiteScheduling

SPACY_CHECK = "tests/test_make_check.py::test_generated_repo_passes_make_check[spacy]"
SKLEARN_CHECK = "tests/test_make_check.py::test_generated_repo_passes_make_check[sklearn]"


class Worker:
    """What the scheduler sees of a pytest-xdist worker; it keeps the test indices it was sent."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.sent: list[int] = []

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent.extend(indices)

    def shutdown(self) -> None:
        self.shutting_down = True


def first_assignments(collection: list[str], durations: dict[str, float], workers: int) -> list[list[str]]:
    """The tests each worker is sent when the run starts, as ``--dist loadscope`` runs it with the suite's scheduler."""
    config = SimpleNamespace(getvalue={"tx": [f"{workers}*popen"]}.get,
                             option=SimpleNamespace(loadscopereorder=False))
    scheduler = SuiteScheduling(config)
    scheduler.durations = durations
    nodes = [Worker(f"gw{number}") for number in range(workers)]
    for node in nodes:
        scheduler.add_node(node)
        scheduler.add_node_collection(node, collection)
    scheduler.schedule()
    return [[collection[index] for index in node.sent] for node in nodes]


def test_each_walkthrough_is_a_scope_of_its_own_and_other_modules_travel_whole():
    assert timings.scope_of(SPACY_CHECK) == SPACY_CHECK != timings.scope_of(SKLEARN_CHECK)
    assert timings.scope_of("tests/test_rehearse.py::test_throttling_is_rehearsed_as_recovered") == \
        timings.scope_of("tests/test_rehearse.py::test_a_second_rehearsal_against_the_same_state_converges") == \
        "tests/test_rehearse.py"


def test_a_worker_busy_with_a_long_test_gets_the_cheapest_scope_not_the_next_long_one():
    # ordered as the suite collects them: costliest scope first
    collection = [SPACY_CHECK, SKLEARN_CHECK, "tests/test_a.py::test_1", "tests/test_a.py::test_2",
                  "tests/test_a.py::test_3", "tests/test_b.py::test_1"]
    durations = {SPACY_CHECK: 60.0, SKLEARN_CHECK: 40.0, "tests/test_a.py::test_1": 3.0,
                 "tests/test_a.py::test_2": 3.0, "tests/test_a.py::test_3": 3.0, "tests/test_b.py::test_1": 0.5}
    first, second = first_assignments(collection, durations, workers=2)
    # plain loadscope would send both checks to the first worker, one waiting a whole minute behind the other
    assert first == [SPACY_CHECK, "tests/test_b.py::test_1"]
    assert second == [SKLEARN_CHECK, "tests/test_a.py::test_1", "tests/test_a.py::test_2", "tests/test_a.py::test_3"]


def test_a_worker_with_short_tests_pending_gets_the_next_longest_scope():
    collection = ["tests/test_a.py::test_1", "tests/test_b.py::test_1", "tests/test_c.py::test_1"]
    durations = {"tests/test_a.py::test_1": 5.0, "tests/test_b.py::test_1": 4.0, "tests/test_c.py::test_1": 1.0}
    [only] = first_assignments(collection, durations, workers=1)
    assert only[:2] == ["tests/test_a.py::test_1", "tests/test_b.py::test_1"]
