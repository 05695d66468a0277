"""What a question asks for, and where its question word stands.

Read off the normalised question (simplified, lower case). The first kind whose pattern
matches wins, so the narrow kinds (a year, a person) come before the broad ones (a list,
a definition). ``wh_span`` is where the asking words are: the answer sits where they sit
once the question's other words are aligned with a sentence.
"""
from __future__ import annotations

import re

KINDS = ("time", "person", "place", "org", "number", "reason", "manner", "list", "definition", "yesno", "other")
PATTERNS = (
    ("time", r"哪一?年|那一年|何年|年份|何时|[什甚]么时[候间]|哪个?时[候期间]|哪一?天|几月|几号|何日|几时|日期"
             r"|哪一?个?年代|哪个世纪|哪一?个?朝代|\bwhen\b"),
    ("person", r"谁|何人|哪一?位|哪一?个?人|哪些人|什么人|\bwho\b"),
    ("place", r"哪里|何处|何地|哪儿|哪个?地方|什么地方|在哪|哪一?个?(?:国家|城市|地区|省|州|国|县|市|岛|洲|区|城|镇|港)|\bwhere\b"),
    ("org", r"哪一?[个家所支]?(?:公司|机构|组织|单位|大学|学校|学院|部门|团体|球队|政党|杂志|报社?|电视台|部队|队|银行|企业|政府)"
            r"|什么(?:公司|机构|组织|单位|团体)"),
    ("number", r"多少|几(?!乎)|(?<![很许众诸])多[大长高远久重深宽快老少]|\bhow (?:many|much|long|old)\b"),
    ("reason", r"为什么|为何|什么原因|何故|\bwhy\b"),
    ("manner", r"怎么|怎样|如何|什么方法|什么方式|\bhow\b"),
    ("list", r"哪些|哪几|有什么"),
    ("definition", r"什么是|是什么|指什么|何谓|是指|什么意思|\bwhat\b"),
    ("yesno", r"是否|有没有|是不是|能不能|会不会|可不可以|吗\W*$"),
)
COMPILED = tuple((kind, re.compile(pattern)) for kind, pattern in PATTERNS)
WH = re.compile(r"为什么|为何|怎么样?|怎样|如何|多少|多[大长高远久重深宽快老少]|几|谁|什么|甚么|哪[一个些里儿位]*|何[时处地人]?|是否|吗"
                r"|\b(?:what|who|when|where|why|how|which)\b")


def kind_of(question: str) -> str:
    """The kind of thing a normalised question asks for, ``other`` when it doesn't say."""
    for kind, pattern in COMPILED:
        if pattern.search(question):
            return kind
    return "other"


def wh_span(question: str) -> tuple[int, int]:
    """Where the question word stands in ``question``; (len, len) when it has none (the
    answer then follows what the question names: 影谱的融资金额 → 13.6亿元)."""
    match = WH.search(question)
    return match.span() if match else (len(question), len(question))
