"""`path_back`: the one cycle check the fusion passes ask before contracting a group."""
from lowerflow.passes.contract import BUDGET, CYCLE, path_back

# a -> b -> c -> d, a -> d, e -> f
EDGES = {"a": ["b", "d"], "b": ["c"], "c": ["d"], "d": [], "e": ["f"], "f": []}


def test_a_path_leaving_and_reentering_the_group_is_a_cycle():
    # contracting {a, d}: a -> b -> c -> d leaves the group and comes back
    assert path_back(["b"], EDGES.__getitem__, {"a", "d"}, budget=10) == CYCLE


def test_no_path_back_is_none():
    assert path_back(["f"], EDGES.__getitem__, {"a", "e"}, budget=10) is None  # e -> f ends there
    assert path_back([], EDGES.__getitem__, {"a"}, budget=0) is None


def test_the_search_gives_up_past_its_budget():
    chain = {i: [i + 1] for i in range(100)}
    chain[100] = ["target"]
    assert path_back([0], chain.__getitem__, {"target"}, budget=10) == BUDGET
    assert path_back([0], chain.__getitem__, {"target"}, budget=200) == CYCLE
