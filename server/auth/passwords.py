"""Password rules for people's accounts (not for API tokens, which are random): the one place they live.

A short list of banned passwords let 15 of 25 common ones through (qq123456, woaini520, 1q2w3e4r,
p@ssw0rd …). Guessability is now estimated by zxcvbn (Dropbox's estimator, the maintained Python port
on PyPI): its dictionaries hold the 30,000 most frequent passwords of a 10-million-password leak corpus,
Chinese favourites among them (5201314, woaini, qq123456, a123456, 1qaz2wsx …), 10,000 surnames
(wang, zhang, li …), English words and names, and it sees keyboard walks (1q2w3e4r, zxcvbnm), repeats
(88888888), sequences (147258369), dates and years, and l33t spellings (p@ssw0rd). A password must need
at least 10⁸ guesses (zxcvbn score 3, "safely unguessable" against online attacks and slowed offline
ones). What an attacker of this particular system would try first, the user's own name and the words
of this system (its published demo password among them), counts as nearly free to guess.

The old basic rules stay on top (8 to 72 characters, letters and digits), since county IT security
checklists (等保) ask for them; they are cheap and say plainly what is wrong.
"""
from __future__ import annotations

import threading
from typing import Any

from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 72  # zxcvbn refuses longer input; far beyond any password a person types
MIN_SCORE = 3  # zxcvbn: 0 too guessable … 4 very unguessable; 3 means at least 10⁸ guesses
# Words of this system: the demo password shipped in the README, its name and subject in pinyin.
SITE_WORDS = ("demo-2026", "demo", "admin", "zongzhi", "zhian", "pingan", "gongan", "paicha", "zhengzhi",
              "shifan", "keyarea", "server")
RULES_TEXT = (f"至少 {MIN_LENGTH} 位（不超过 {MAX_LENGTH} 位），须同时包含字母和数字，不能包含用户名或姓名，"
              "不能是常见密码或容易猜到的组合（如 qq123456、1q2w3e4r、woaini1314）")

# zxcvbn keeps the user inputs of the current call in a module-level dictionary, so two threads
# checking at once could see each other's names: one check at a time.
_ZXCVBN_LOCK = threading.Lock()


def password_problems(password: str, username: str = "", display_name: str = "") -> list[str]:
    """Every rule the password breaks, in Chinese; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"密码至少 {MIN_LENGTH} 位")
    if len(password) > MAX_LENGTH:
        return [f"密码不能超过 {MAX_LENGTH} 位"]
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        problems.append("密码须同时包含字母和数字")
    lowered = password.lower()
    names = [n.strip().lower() for n in (username, display_name) if len(n.strip()) >= 2]
    if any(name in lowered for name in names):
        problems.append("密码不能包含用户名或姓名")
    else:
        weakness = _guessable(password, [*names, *SITE_WORDS])
        if weakness:
            problems.append(weakness)
    return problems


def _guessable(password: str, user_inputs: list[str]) -> str | None:
    """Why zxcvbn finds the password too easy to guess, in Chinese, or None when it is not."""
    with _ZXCVBN_LOCK:
        result = zxcvbn(password, user_inputs=user_inputs, max_length=MAX_LENGTH)
    if result["score"] >= MIN_SCORE:
        return None
    guessable = [m for m in result["sequence"] if m.get("pattern") != "bruteforce"]
    longest = max(guessable, key=lambda m: len(m["token"])) if guessable else {}
    return _REASON_PREFIX + _reason(longest)


_REASON_PREFIX = "密码太容易被猜到："


def _reason(match: dict[str, Any]) -> str:
    pattern = match.get("pattern")
    if pattern == "dictionary":
        if match.get("dictionary_name") == "user_inputs":
            return f"含有与本系统或本人相关的词“{match['token']}”"
        if match.get("dictionary_name") == "passwords":
            return f"“{match['token']}”是常见密码" + ("的变形" if match.get("l33t") or match.get("reversed") else "")
        return f"“{match['token']}”是常见的单词或姓名"
    if pattern == "spatial":
        return f"“{match['token']}”是键盘上相邻的按键"
    if pattern == "repeat":
        return f"“{match['token']}”是重复的字符"
    if pattern == "sequence":
        return f"“{match['token']}”是连续的字母或数字"
    if pattern in ("date", "regex"):
        return f"“{match['token']}”是日期或年份"
    return "请加长密码，或用几个不相关的词、数字和符号组合"
