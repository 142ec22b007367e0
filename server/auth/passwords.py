"""Password rules for people's accounts (not for API tokens, which are random)."""
from __future__ import annotations

MIN_LENGTH = 8
COMMON = frozenset({
    "12345678", "123456789", "1234567890", "88888888", "11111111", "00000000", "66666666",
    "password", "password1", "passw0rd", "qwertyui", "abc12345", "abcd1234", "a1234567", "admin123",
    "admin1234", "1qaz2wsx", "qwer1234", "woaini1314", "aa123456",
})


def password_problems(password: str, username: str = "") -> list[str]:
    """Every rule the password breaks, in Chinese; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"密码至少 {MIN_LENGTH} 位")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        problems.append("密码须同时包含字母和数字")
    if username and username.lower() in password.lower():
        problems.append("密码不能包含用户名")
    if password.lower() in COMMON:
        problems.append("密码过于常见，请换一个")
    return problems
