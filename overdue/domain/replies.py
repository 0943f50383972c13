"""What a customer's reply says, in English or Chinese: an opt-out or opt-in keyword, a request for help, or
free text read for an intent (paid, a promise to pay on a date, a dispute, hardship, a wrong number).

Pure: text and the customer's today in, a `Reply` out. The order of the checks is the order of what matters
most when one message says several things: a revocation first (TCPA: STOP, QUIT, END, REVOKE, OPT OUT,
CANCEL, UNSUBSCRIBE, and any clear request to stop), then a wrong number (we must stop using it), a dispute
(collection stops), a complaint (collection stops, a supervisor looks), hardship (a person must look), a payment
already made, a promise, which counts only with a date, and last a request to be called back: "I'll pay soon"
goes to a person, like anything else we cannot read.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

STOP, START, HELP = "stop", "start", "help"
PAID, PROMISE, DISPUTE, HARDSHIP, WRONG_NUMBER, OTHER = (
    "paid",
    "promise",
    "dispute",
    "hardship",
    "wrong_number",
    "other",
)
ACCEPT, AFFORDABILITY = "accept", "affordability"
COMPLAINT, CALLBACK = "complaint", "callback"
INTENTS = (
    STOP,
    START,
    HELP,
    ACCEPT,
    PAID,
    PROMISE,
    DISPUTE,
    COMPLAINT,
    AFFORDABILITY,
    HARDSHIP,
    WRONG_NUMBER,
    CALLBACK,
    OTHER,
)

STOP_WORDS = frozenset({"stop", "stopall", "quit", "end", "revoke", "opt out", "optout", "cancel", "unsubscribe", "td"})
START_WORDS = frozenset({"start", "unstop"})
HELP_WORDS = frozenset({"help", "info", "帮助"})
# The offer texts say "Reply YES": the whole reply must be one of these, so "yes but not now" goes to a person.
ACCEPT_WORDS = frozenset(
    {"yes", "y", "accept", "i accept", "agree", "i agree", "同意", "接受", "是", "确认", "好的，同意"}
)


@dataclass(frozen=True)
class Reply:
    intent: str
    promised_on: date | None = None
    means: Means | None = None  # what an affordability reply says the customer earns and spends


@dataclass(frozen=True)
class Means:
    """Amounts as written (major units, e.g. "3,200.50"); the currency is the account's."""

    income: str
    expenses: str
    dependants: int


def _either(english: str, chinese: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{english})\b|{chinese}", re.IGNORECASE)


STOP_REQUEST = _either(
    r"(?:stop|quit) (?:texting|messaging|sending|calling|contacting|emailing)|(?:do not|don'?t|never) "
    r"(?:text|message|call|contact|email)|unsubscribe|opt[ -]?out|remove me",
    r"退订|(?:不要|别|请勿)再?(?:发|打|联系|骚扰)",
)
WRONG = _either(
    r"wrong (?:number|person)|who is this|not the right person|(?:no ?one|nobody) (?:by that name|named|called)|"
    r"(?:don'?t|do not) know (?:this|who|him|her|them|any)|doesn'?t live here",
    r"打错|发错|不认识|不是本人|号码错|没有这个人|查无此人",
)
DISPUTED = _either(
    r"not my (?:debt|account|loan|card|bill)|(?:don'?t|do not|never) owe|never (?:had|opened|borrowed|signed)|"
    r"dispute|wrong amount|amount is wrong|incorrect (?:amount|balance|charge)|fraud(?:ulent)?|identity theft|"
    r"not mine|isn'?t mine",
    r"不是我的|没有欠|不欠|异议|金额不对|不认可|被盗用|盗刷|冒用|欺诈",
)
COMPLAINING = _either(
    r"complain\w*|harass\w*|file a (?:formal )?grievance|report (?:you|this) to|ombudsman|cfpb|"
    r"attorney general|(?:rude|abusive|threatening) (?:agent|caller|collector|staff|call)",
    r"投诉|举报|骚扰|态度恶劣|威胁我|恐吓|银保监|金融监管|12378",
)
CALL_ME = _either(
    r"call me(?: back)?|give me a (?:call|ring)|phone me|ring me|(?:can|could|would) (?:someone|somebody|you) "
    r"(?:please )?call|speak (?:to|with) (?:a|an|someone|somebody|a real) ?(?:person|agent|human|someone)?",
    r"(?:给我|请)?回电|给我打(?:个)?电话|打电话给我|人工客服",
)
STRUGGLING = _either(
    r"lost my job|laid off|unemployed|out of work|can'?t afford|cannot afford|can'?t pay|cannot pay|unable to pay|"
    r"no money|hardship|struggling|hospital|sick|illness|cancer|disabled|divorce|passed away|funeral|bereave\w*",
    r"失业|下岗|没钱|困难|住院|生病|还不起|无力|没有能力|没工作|疾病|去世",
)
ALREADY_PAID = _either(
    r"already paid|i(?:'ve| have)? (?:already )?paid|paid (?:it|this|that|in full|yesterday|today|last)|"
    r"payment (?:was |has been )?(?:made|sent|done)",
    r"已经?还|还过了|已付|已经付|已缴|已经缴|已转账",
)
WILL_PAY = _either(
    r"pay(?:ing|ment)?|promise|send (?:the )?(?:money|funds)",
    r"还款|还钱|还上|会还|付款|缴款|转账|打款",
)


def keyword(text: str) -> str | None:
    """STOP, START or HELP when the whole message is one of their keywords (as carriers read them); ACCEPT
    when it is a plain yes to an offer."""
    words = _words(text)
    if words in STOP_WORDS or words == "退订":
        return STOP
    if words in START_WORDS:
        return START
    if words in HELP_WORDS:
        return HELP
    if words in ACCEPT_WORDS:
        return ACCEPT
    return None


def classify(text: str, today: date) -> Reply:
    """`today`: the customer's local date, from which "Friday" or "the 20th" is read."""
    word = keyword(text)
    if word is not None:
        return Reply(word)
    for intent, pattern in ((STOP, STOP_REQUEST), (WRONG_NUMBER, WRONG), (DISPUTE, DISPUTED), (COMPLAINT, COMPLAINING)):
        if pattern.search(text):
            return Reply(intent)
    means = stated_means(text)
    if means is not None:
        return Reply(AFFORDABILITY, means=means)
    if STRUGGLING.search(text):
        return Reply(HARDSHIP)
    if ALREADY_PAID.search(text):
        return Reply(PAID)
    if WILL_PAY.search(text):
        promised = promised_date(text, today)
        if promised is not None:
            return Reply(PROMISE, promised)
    if CALL_ME.search(text):
        return Reply(CALLBACK)
    return Reply(OTHER)


def _words(text: str) -> str:
    """Lower case, inner spaces collapsed, punctuation and emoji at either end dropped: "Stop!!" -> "stop"."""
    return " ".join(text.casefold().split()).strip(" .!?,;:'\"()[]-—~。！？，；：")


# --- what the customer earns and spends --------------------------------------------------------------------------

AMOUNT = r"[$¥£]?\s*(\d[\d,]*(?:\.\d{1,2})?)\s*(?:元|块)?"
INCOME = re.compile(rf"(?:\bincome\b|\bearn(?:s|ing)?\b|\bsalary\b|收入|工资)\D{{0,15}}?{AMOUNT}", re.IGNORECASE)
EXPENSES = re.compile(
    rf"(?:\bexpenses?\b|\bspend(?:ing)?\b|\boutgoings\b|\bbills\b|支出|开销|花销|开支)\D{{0,15}}?{AMOUNT}",
    re.IGNORECASE,
)
DEPENDANTS = (  # "dependants 2" is tried before "2 kids": in "expenses 1700 dependants 1" the 1700 is not a count
    re.compile(r"(?:dependants?|dependents?|家属|抚养|孩子|子女)\D{0,6}?(\d+)", re.IGNORECASE),
    re.compile(r"(?<![\d.,])(\d+)\s*(?:dependants?|dependents?|kids|children)\b", re.IGNORECASE),
)


def stated_means(text: str) -> Means | None:
    """Income and expenses when the text states both (our texts ask: "income 3000 expenses 2000 dependants 2",
    "收入3000 支出2000 家属2"); dependants default to none."""
    income, expenses = INCOME.search(text), EXPENSES.search(text)
    if income is None or expenses is None:
        return None
    counts = [int(found[1]) for pattern in DEPENDANTS if (found := pattern.search(text))]
    count = counts[0] if counts else 0
    return Means(income[1].replace(",", ""), expenses[1].replace(",", ""), count)


# --- dates ------------------------------------------------------------------------------------------------------

MONTHS = {
    name.lower(): n for names in (calendar.month_name, calendar.month_abbr) for n, name in enumerate(names) if name
}
MONTHS["sept"] = 9
MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
WEEKDAYS = {name.lower(): n for n, name in enumerate(calendar.day_name)}
CN_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
ORDINAL = r"(?:st|nd|rd|th)?"
ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
CN_DATE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]")
SLASHED = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?\b")  # month/day, as written in the US
MONTH_DAY = re.compile(rf"\b({MONTH_NAMES})\.? (\d{{1,2}}){ORDINAL}\b", re.IGNORECASE)
DAY_MONTH = re.compile(rf"\b(\d{{1,2}}){ORDINAL} (?:of )?({MONTH_NAMES})\b", re.IGNORECASE)
DAY_OF_MONTH = re.compile(rf"\b(?:on|by|before) the (\d{{1,2}}){ORDINAL}\b|(\d{{1,2}})[日号]", re.IGNORECASE)
WEEKDAY = re.compile(rf"\b(next )?({'|'.join(WEEKDAYS)})\b", re.IGNORECASE)
CN_WEEKDAY = re.compile(r"(下)?(?:周|星期|礼拜)([一二三四五六日天])")
RELATIVE = (
    (re.compile(r"\bday after tomorrow\b|后天", re.IGNORECASE), 2),
    (re.compile(r"\btomorrow\b|明天", re.IGNORECASE), 1),
    (re.compile(r"\b(?:today|tonight)\b|今天|今晚", re.IGNORECASE), 0),
)
MONTH_END = re.compile(r"\bend of (?:the |this )?month\b|月底", re.IGNORECASE)


def promised_date(text: str, today: date) -> date | None:
    """The first date the text names, read forward from `today` (a day already past this year is next year's);
    None when it names none, or names an impossible one."""
    for read in (_absolute, _day_of_month, _weekday, _relative):
        found = read(text, today)
        if found is not None:
            return found if found >= today else None
    return None


def _upcoming(year: int | None, month: int, day: int, today: date) -> date | None:
    try:
        found = date(year or today.year, month, day)
        if year is None and found < today:
            found = date(today.year + 1, month, day)
    except ValueError:
        return None
    return found


def _absolute(text: str, today: date) -> date | None:
    if match := ISO.search(text):
        return _upcoming(int(match[1]), int(match[2]), int(match[3]), today)
    if match := CN_DATE.search(text):
        return _upcoming(int(match[1]) if match[1] else None, int(match[2]), int(match[3]), today)
    if match := SLASHED.search(text):
        year = int(match[3]) if match[3] else None
        if year is not None and year < 100:
            year += 2000
        return _upcoming(year, int(match[1]), int(match[2]), today)
    if match := MONTH_DAY.search(text):
        return _upcoming(None, MONTHS[match[1].lower()], int(match[2]), today)
    if match := DAY_MONTH.search(text):
        return _upcoming(None, MONTHS[match[2].lower()], int(match[1]), today)
    return None


def _day_of_month(text: str, today: date) -> date | None:
    if MONTH_END.search(text):
        return date(today.year, today.month, calendar.monthrange(today.year, today.month)[1])
    match = DAY_OF_MONTH.search(text)
    if match is None:
        return None
    day = int(match[1] or match[2])
    month, year = (today.month, today.year) if day >= today.day else _next_month(today)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _next_month(today: date) -> tuple[int, int]:
    return (1, today.year + 1) if today.month == 12 else (today.month + 1, today.year)


def _weekday(text: str, today: date) -> date | None:
    if match := WEEKDAY.search(text):
        return _next_weekday(today, WEEKDAYS[match[2].lower()], following_week=False)
    if match := CN_WEEKDAY.search(text):
        return _next_weekday(today, CN_WEEKDAYS[match[2]], following_week=bool(match[1]))
    return None


def _next_weekday(today: date, weekday: int, *, following_week: bool) -> date:
    """The next such day after today; 下周五 is the Friday of next week (weeks start on Monday)."""
    if following_week:
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        return monday + timedelta(days=weekday)
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _relative(text: str, today: date) -> date | None:
    for pattern, days in RELATIVE:
        if pattern.search(text):
            return today + timedelta(days=days)
    return None
