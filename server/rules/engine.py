"""The policy engine: durable_rules 2.0.28 behind a wrapper that holds in a threaded server.

This is the only module of the server that imports durable_rules. Why it is built this way
(``/work/shared/research/durable_rules.md`` §8, plus what was measured while writing it):

* **No background threads.** The stock ``engine.Host`` starts two timer loops that race with request
  threads and segfault the process; :class:`_Host` overrides ``_run`` to do nothing (this evaluator
  needs no timers and no async actions).
* **One process-wide lock** (:data:`_LOCK`) around every whole evaluation (assert → actions →
  delete_state) and around compile/swap/free. Everything runs under the GIL anyway, so it costs
  nothing measurable; it keeps at most one live session, so the 1024-sessions-per-ruleset cap and the
  stale-index crash cannot be reached, and a ruleset is never freed while an evaluation uses it.
* **Stateless evaluations:** fresh uuid4 sid, one ``assert_fact`` (never ``post``: an event fires only
  one rule; never the batch call: an oversized batch segfaults), ``delete_state`` afterwards.
* **A catch-all rule** (``_t == "fact"``, no effect) in every compiled ruleset. In 2.0.28 a session in
  which no rule fired is left half-initialised, and ``delete_state`` on it reads uninitialised memory
  (valgrind: "Conditional jump ... depends on uninitialised value(s)" in ``deleteStateNode``); in a
  fresh process the first such evaluation segfaults. With the catch-all every session goes through the
  action path and ``MessageNotHandledException`` does not occur.
* **Guarded patterns:** every condition is compiled as ``{"$and": [{"_t": "fact"}, <condition>]}`` so
  ``$nex``/``$neq`` never match the engine's own state fact (``$nex`` would otherwise loop forever).
* **Results per rule, de-duplicated** (``$or`` fires once per true branch), ordered as the rules are.
* **Actions are plain one-argument functions** that append the rule's index to the current
  evaluation's collector: they never raise (the engine would swallow it) and do no I/O (an action
  over 10 s silently cuts the evaluation short). What a rule *does* is applied after ``evaluate``.
* **Hot reload** compiles under a fresh durable name (``{name}__{n}``; durable cannot replace a
  ruleset), swaps the active pointer and frees the old ruleset (``_ruleset_directory``,
  ``_ruleset_list`` and ``durable_rules_engine.delete_ruleset``: without it each reload leaks ~120 kB
  and a handle). A failed compile leaves the old version active.
* **Validated input:** conditions are checked by :mod:`.conditions` first (errors carry JSON pointers;
  durable only gives numeric codes), rulesets are kept within the C core's fixed-size tables
  (:func:`.conditions.ruleset_problems`: more than 64 alpha branches matching one fact overflow its
  traversal stack, which ends in ``error code: 303`` or a crash), and facts are re-checked by
  :func:`.normalise.check_fact` (reserved keys, types, numbers the C parser can read).
* **After an engine error** during an evaluation the session may be half-built, and deleting it may
  crash; the wrapper then does not touch it: the affected ruleset is quarantined (detached, never
  freed, so its handle is not reused) and recompiled under a new name. Facts are validated and the
  catch-all rule exists, so this is not expected to happen.
* ``faulthandler`` is enabled at import, so a crash in the C core leaves a Python traceback.
"""
from __future__ import annotations

import copy
import faulthandler
import io
import itertools
import logging
import re
import sys
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import durable_rules_engine
from durable import engine as durable_engine

from .conditions import MAX_BRANCHES, MAX_RULES, MAX_TERMS, describe_value, ruleset_problems
from .normalise import FactError, check_fact

__all__ = [
    "ENGINE",
    "EngineError",
    "Evaluation",
    "FactError",
    "MAX_BRANCHES",
    "MAX_RULES",
    "MAX_TERMS",
    "PolicyEngine",
    "RuleCompileError",
]

log = logging.getLogger(__name__)


def _enable_faulthandler() -> None:
    if faulthandler.is_enabled():
        return
    for stream in (sys.stderr, sys.__stderr__):
        try:
            faulthandler.enable(file=stream)
            return
        except (AttributeError, ValueError, io.UnsupportedOperation, RuntimeError):
            continue


_enable_faulthandler()

#: Serialises every evaluation and every compile/swap/free in the process (all PolicyEngine instances).
_LOCK = threading.Lock()
#: Durable ruleset names are unique in the process: ``{name}__{n}``.
_COUNTER = itertools.count(1)

_NAME_RE = re.compile(r"^\w[\w.-]{0,99}$")
_FACT_KIND = "fact"
_CODE_RE = re.compile(r"error code: (\d+)")

#: durable_rules_engine error codes (src/rules/rules.h, 2.0.28) in words.
_ERROR_CODES = {
    101: "内存不足",
    102: "遇到了类型不符合预期的值",
    103: "标识符过长",
    104: "遇到了不符合预期的值",
    105: "遇到了不认识的键名",
    106: "规则数量超出引擎上限",
    107: "条件分支超出引擎上限",
    108: "规则的联接超出引擎上限",
    109: "规则缺少限定条件",
    110: "设置项不存在",
    111: "规则集句柄无效（规则集已被释放）",
    112: "规则集数量超出引擎上限（句柄用尽）",
    113: "表达式数量超出引擎上限",
    201: "无法解析值",
    202: "无法解析字符串（通常是不认识的运算符或键名）",
    203: "无法解析数字",
    204: "无法解析对象（常见原因：数字写成了科学计数法）",
    205: "无法解析列表",
    302: "事实的属性过多",
    303: "同时匹配的条件分支过多（引擎遍历栈溢出）",
    304: "同一会话中的消息过多",
    305: "消息不存在",
    306: "位置不存在",
    307: "会话节点已被删除",
    308: "会话节点正在派发",
    309: "会话不存在",
    310: "没有可执行的动作",
    311: "属性不存在",
    312: "不支持的操作",
}


class RuleCompileError(ValueError):
    """A ruleset that cannot be compiled. ``problems``: ``[(json_pointer, message)]`` in Chinese;
    pointers are relative to the ruleset file (``/rules/<rule id>/if/...``)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = list(problems)
        super().__init__("；".join(f"{p or '/'}：{m}" for p, m in self.problems))


class EngineError(RuntimeError):
    """The C core failed during an evaluation (``code``: its numeric error code, or None)."""

    def __init__(self, code: int | None, message: str):
        self.code = code
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The outcome of one evaluation: the ruleset version used and the ids of the rules that fired
    (each once, in the order of the ruleset)."""

    version: str
    fired: list[str]


class _Host(durable_engine.Host):
    """A durable Host without its two background timer threads (they race with request threads and
    segfault the process). Rulesets are registered only by PolicyEngine; nothing is loaded lazily."""

    def _run(self) -> None:  # the stock Host starts its dispatch/timer loops here
        return None

    def get_action(self, action_name: str) -> Any:
        raise LookupError(f"actions are bound as functions, not by name ({action_name!r})")

    def load_ruleset(self, ruleset_name: str) -> Any:
        raise KeyError(ruleset_name)


class _Collector:
    """Where actions record the rule that fired. Evaluations are serialised by _LOCK, so the current
    evaluation's list lives in one slot."""

    fired: list[int] | None = None


def _make_action(index: int) -> Any:
    # Exactly one positional parameter: durable decides sync vs async by co_argcount (2 = async, which
    # would never complete), and rejects partials and callable objects.
    def action(c):
        try:
            _Collector.fired.append(index)
        except BaseException:  # never let anything reach the engine (it would swallow it)
            pass

    return action


def _catch_all(c):
    return None


@dataclass(slots=True)
class _Compiled:
    durable_name: str
    version: str
    rule_ids: tuple[str, ...]
    conditions: tuple[Any, ...]
    ruleset: Any


def _error_code(error: BaseException) -> int | None:
    match = _CODE_RE.search(str(error))
    return int(match.group(1)) if match else None


def _code_message(code: int | None) -> str:
    if code is None:
        return "未知错误"
    return f"错误码 {code}：{_ERROR_CODES.get(code, '未知错误')}"


def _load_problems(name: Any, rules: Any, version: Any) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not isinstance(name, str) or not _NAME_RE.match(name):
        problems.append(("", f"规则集名称应为 1–100 个字母、数字、下划线、点或连字符（以字母、数字或下划线开头），"
                             f"实际为 {describe_value(name)}"))
    if not isinstance(version, str) or not version:
        problems.append(("", f"版本应为非空字符串，实际为 {describe_value(version)}"))
    return problems + ruleset_problems(rules, "/rules", allow_params=False)


class PolicyEngine:
    """Named, versioned rulesets evaluated one fact at a time. Thread-safe.

    ``load(name, rules, version)`` compiles ``rules`` (rule id → substituted condition) and makes it the
    active version of ``name``; ``evaluate(name, fact)`` returns which rules the (normalised) fact
    fires. Rule ids and conditions are those of ``config/rules/<ruleset>.json`` (docs/rules.md).
    """

    def __init__(self) -> None:
        self._host = _Host()
        self._active: dict[str, _Compiled] = {}
        self._quarantined: list[Any] = []  # durable Rulesets detached after an engine error, never freed

    # ---------------------------------------------------------------------------------------------
    def load(self, name: str, rules: dict[str, dict], version: str) -> None:
        """Compile ``rules`` and swap it in as the active version of ``name`` (freeing the previous one).

        Raises :class:`RuleCompileError` (the previous version stays active) for a condition that is
        not valid (see :func:`.conditions.condition_problems`; ``$param`` must already be substituted),
        a ruleset beyond the engine's limits, or a compile error of the C core.
        """
        problems = _load_problems(name, rules, version)
        if problems:
            raise RuleCompileError(problems)
        rule_ids = tuple(rules)
        conditions = tuple(copy.deepcopy(rules[rule_id]) for rule_id in rule_ids)
        with _LOCK:
            compiled = self._compile(name, version, rule_ids, conditions)
            previous = self._active.get(name)
            self._active[name] = compiled
            if previous is not None:
                self._free(previous)
        log.info("rules: %s version %s active (%d rules, durable ruleset %s)",
                 name, version, len(rule_ids), compiled.durable_name)

    def evaluate(self, name: str, fact: dict) -> Evaluation:
        """Evaluate one normalised fact against the active version of ``name``.

        Raises KeyError for an unknown ruleset, :class:`.normalise.FactError` for a fact that was not
        normalised (reserved keys, non-scalar values, ...), :class:`EngineError` if the C core fails.
        """
        check_fact(fact)
        with _LOCK:
            compiled = self._active[name]
            sid = uuid.uuid4().hex
            message = dict(fact)
            message["sid"] = sid
            message["id"] = _FACT_KIND
            message["_t"] = _FACT_KIND
            fired: list[int] = []
            _Collector.fired = fired
            half_built = False
            try:
                self._host.assert_fact(compiled.durable_name, message)
            except durable_engine.MessageNotHandledException:
                # Not expected (the catch-all rule handles every fact): no rule fired, but the session
                # is in the state that makes delete_state read uninitialised memory.
                half_built = True
                fired.clear()
            except durable_rules_engine.error as error:
                half_built = True
                code = _error_code(error)
                raise EngineError(code, f"规则引擎执行失败（{_code_message(code)}）") from error
            finally:
                _Collector.fired = None
                if half_built:
                    self._quarantine(name, compiled)
                else:
                    self._delete_state(name, compiled, sid)
            ids = compiled.rule_ids
            return Evaluation(compiled.version, [ids[i] for i in sorted(set(fired))])

    def unload(self, name: str) -> None:
        """Remove ruleset ``name`` and free it (KeyError if it is not loaded)."""
        with _LOCK:
            compiled = self._active.pop(name)
            self._free(compiled)

    def loaded(self) -> dict[str, str]:
        """``{name: active version}``."""
        with _LOCK:
            return {name: compiled.version for name, compiled in self._active.items()}

    def live_rulesets(self) -> list[str]:
        """The durable rulesets this engine holds (one per loaded name, unless something leaked)."""
        with _LOCK:
            return list(self._host._ruleset_directory)

    def close(self) -> None:
        """Unload everything."""
        with _LOCK:
            for name in list(self._active):
                self._free(self._active.pop(name))

    # ---------------------------------------------------------------------------------------------
    # all below run under _LOCK

    def _compile(self, name: str, version: str, rule_ids: tuple[str, ...],
                 conditions: tuple[Any, ...]) -> _Compiled:
        durable_name = f"{name}__{next(_COUNTER)}"
        definition: dict[str, Any] = {}
        for index, condition in enumerate(conditions):
            definition[f"r{index}"] = {
                "all": [{"m": {"$and": [{"_t": _FACT_KIND}, copy.deepcopy(condition)]}}],
                "run": _make_action(index),
            }
        definition["catch_all"] = {"all": [{"m": {"_t": _FACT_KIND}}], "run": _catch_all}
        try:
            self._host.register_rulesets({durable_name: definition})
        except durable_rules_engine.error as error:
            raise RuleCompileError([("/rules", f"规则引擎拒绝编译这组规则（{_code_message(_error_code(error))}）")]) from error
        except Exception as error:
            raise RuleCompileError([("/rules", f"规则引擎无法编译这组规则（{type(error).__name__}: {error}）")]) from error
        ruleset = self._host._ruleset_directory[durable_name]
        return _Compiled(durable_name, version, rule_ids, conditions, ruleset)

    def _detach(self, compiled: _Compiled) -> None:
        self._host._ruleset_directory.pop(compiled.durable_name, None)
        try:
            self._host._ruleset_list.remove(compiled.ruleset)
        except ValueError:
            pass

    def _free(self, compiled: _Compiled) -> None:
        self._detach(compiled)
        try:
            durable_rules_engine.delete_ruleset(compiled.ruleset._handle)
        except durable_rules_engine.error as error:
            log.error("rules: could not free durable ruleset %s: %s", compiled.durable_name, error)

    def _delete_state(self, name: str, compiled: _Compiled, sid: str) -> None:
        try:
            self._host.delete_state(compiled.durable_name, sid)
        except durable_rules_engine.error as error:
            code = _error_code(error)
            if code == 309:  # no session was created (the assert failed before): nothing to delete
                return
            self._quarantine(name, compiled)
            raise EngineError(code, f"规则引擎无法删除会话（{_code_message(code)}）") from error

    def _quarantine(self, name: str, compiled: _Compiled) -> None:
        log.error("rules: engine error on %s version %s; durable ruleset %s quarantined and recompiled",
                  name, compiled.version, compiled.durable_name)
        self._detach(compiled)
        self._quarantined.append(compiled.ruleset)
        if self._active.get(name) is compiled:
            try:
                self._active[name] = self._compile(name, compiled.version, compiled.rule_ids, compiled.conditions)
            except RuleCompileError:  # it compiled before; if it no longer does, stop serving it
                log.exception("rules: could not recompile %s version %s", name, compiled.version)
                del self._active[name]


#: The process's default engine.
ENGINE = PolicyEngine()
