"""The dependency graph between services: pure functions, no engine needed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bitdust.main.errors import InternalError


class DependencyCycle(InternalError):
    """Services that depend on each other in a circle can never start."""


def start_order(depends: Mapping[str, Iterable[str]]) -> list[str]:
    """Every service after the services it depends on; ties broken by name for stable output.

    Dependencies on services that are not in ``depends`` are ignored here (such a service
    simply cannot start, see :func:`missing_dependencies`).
    """
    graph = {name: sorted(d for d in deps if d in depends) for name, deps in depends.items()}
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, path: list[str]) -> None:
        mark = state.get(name)
        if mark == 2:
            return
        if mark == 1:
            cycle = path[path.index(name) :] + [name]
            raise DependencyCycle("service dependency cycle: " + " -> ".join(cycle))
        state[name] = 1
        for dep in graph[name]:
            visit(dep, path + [name])
        state[name] = 2
        order.append(name)

    for name in sorted(graph):
        visit(name, [])
    return order


def missing_dependencies(depends: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """For each service, the dependencies that no known service provides."""
    missing = {}
    for name, deps in depends.items():
        absent = sorted(d for d in deps if d not in depends)
        if absent:
            missing[name] = absent
    return missing


def all_dependencies(depends: Mapping[str, Iterable[str]], name: str) -> list[str]:
    """Every service ``name`` needs, directly or not, in start order (``name`` excluded)."""
    needed: set[str] = set()
    stack = list(depends.get(name, ()))
    while stack:
        dep = stack.pop()
        if dep in needed or dep not in depends:
            continue
        needed.add(dep)
        stack.extend(depends[dep])
    return [n for n in start_order(depends) if n in needed]


def all_dependents(depends: Mapping[str, Iterable[str]], name: str) -> list[str]:
    """Every service that needs ``name``, directly or not, in stop order (dependents first)."""
    dependents: set[str] = set()
    changed = True
    while changed:
        changed = False
        for other, deps in depends.items():
            if other in dependents or other == name:
                continue
            if name in deps or dependents.intersection(deps):
                dependents.add(other)
                changed = True
    return [n for n in reversed(start_order(depends)) if n in dependents]


def root_distance(depends: Mapping[str, Iterable[str]], name: str) -> int:
    """How many dependency hops separate ``name`` from a service that depends on nothing."""
    deps = [d for d in depends.get(name, ()) if d in depends]
    if not deps:
        return 0
    return 1 + max(root_distance(depends, d) for d in deps)
