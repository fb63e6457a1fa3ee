"""Chinese text: word segmentation (jieba), Traditional → Simplified (OpenCC), stop words.

Words (jieba) serve where a word must be recognised: content-word overlap, follow-up cues and the
dictionary bridge. Keyword search indexes character bigrams instead: measured side by side on the
bilingual question set (`benchmarks/compare_tokenizers.py`) bigrams rank a little better (zh→zh
hit@1 0.939 vs 0.918), index about seven times faster, need no dictionary and cannot mis-segment
the names of firms and programmes no dictionary knows. Both libraries load on first use.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache

from knowledge.language import has_han

HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

# Function words and question words that carry no topic: they must not decide a keyword match.
STOPWORDS = frozenset(
    """的 了 是 在 和 与 及 以及 等 等等 或 或者 而 并 并且 也 都 就 又 还 很 更 最 太 非常 把 被 让 给 对 对于 从 向 到
    为 为了 以 之 其 其中 中 上 下 里 内 外 这 那 这个 那个 这些 那些 这样 那样 这种 那种 哪 哪些 哪个 什么 怎么 怎样
    怎么样 如何 为什么 为何 多少 几 吗 呢 吧 啊 呀 嘛 哦 我 我们 你 你们 您 他 他们 她 她们 它 它们 自己 大家 有 没有
    没 不 不是 会 能 能够 可以 可能 要 需要 应该 应当 该 得 地 着 过 个 一个 一些 一种 每 各 某 些 所 所有 因为 所以
    但 但是 然而 如果 虽然 因此 于是 比如 例如 请问 请 一下 关于 有关 是否 是不是 吗 还是 已经 正在 将 将会 被 由
    跟 同 比 比较 一 二 两 多 少 后 前 时 时候 现在 目前 今天 就是 只 只是 才 再 即 即使 一样 一起 一直 通过 进行 做
    做到 该怎么办 怎么办 应该怎么 啥 咋 么 嗯 哈""".split()
)


# Terms of this library's domain that jieba's general dictionary splits apart (专精 + 特新).
DOMAIN_WORDS = ("专精特新", "小巨人", "隐形冠军", "单项冠军", "数字化转型", "中小企业", "中小微企业", "家族企业",
                "接班人", "二代", "研发费用", "产业集群", "上云", "数字化", "智能制造", "跨境电商")


_tokenizers: list = []  # type: ignore[type-arg]  # the one jieba tokenizer, once made
_tokenizer_lock = threading.Lock()


def _tokenizer():  # type: ignore[no-untyped-def]
    if not _tokenizers:
        with _tokenizer_lock:  # made once even when a warm-up thread and a question ask together
            if not _tokenizers:
                _tokenizers.append(_make_tokenizer())
    return _tokenizers[0]


def _make_tokenizer():  # type: ignore[no-untyped-def]
    import jieba

    logging.getLogger("jieba").setLevel(logging.WARNING)  # it logs its dictionary build at DEBUG
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in DOMAIN_WORDS:
        tokenizer.add_word(word)
    return tokenizer


def warm_up_in_background() -> None:
    """Loads jieba's dictionary (0.8 s) in a thread of its own, once: a library holding Chinese
    needs it for every question (English ones too, through the dictionary bridge), and a first
    question can load it while Chroma reads its index from disk without the GIL (about 1 s at
    100,000 passages), instead of after it."""
    if not _tokenizers and not _tokenizer_lock.locked():
        threading.Thread(target=_tokenizer, name="sme-advisor-jieba", daemon=True).start()


_converter_lock = threading.Lock()


@lru_cache(maxsize=1)
def _converter():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional characters as Simplified (臺灣 → 台湾), so both spellings match; other text as is."""
    if not has_han(text):
        return text
    converter = _converter()
    with _converter_lock:  # the C++ converter is not documented as thread-safe
        return converter.convert(text)


def segment(text: str) -> list[str]:
    """Words of a Han run or mixed text, in order (jieba's accurate mode)."""
    return [w for w in _tokenizer().lcut(text) if w.strip()]


def segment_for_search(text: str) -> list[str]:
    """Words plus the shorter words inside long ones (专精特新企业 → 专精, 特新, 企业, 专精特新企业)."""
    return [w for w in _tokenizer().lcut_for_search(text) if w.strip()]


def han_runs(text: str) -> list[str]:
    return HAN_RUN.findall(text)


def is_content_word(word: str) -> bool:
    return word not in STOPWORDS and len(word) >= 2 and bool(HAN_RUN.fullmatch(word))


def char_bigrams(run: str) -> list[str]:
    """The n-gram alternative measured against jieba: overlapping character pairs."""
    return [run[i : i + 2] for i in range(len(run) - 1)] or [run]
