"""Generated same-domain documents for the scale benchmark (benchmarks/bench_scale.py).

Each document is a Markdown report about one invented firm: a title, five to seven sections under
topic headings (innovation, succession, digital transformation, financing, staff, exports,
quality, policy…), each of a few paragraphs. A paragraph is four to seven sentences drawn from
about sixty sentence templates whose slots take the firm's name, its city and sector, figures,
years, partner firms and topic words, so no two paragraphs are the same and the vocabulary is the
library's own (owners' business language), not lorem ipsum. About 3 % of the documents are Chinese
(their own templates, read by the Chinese model), the rest English. Everything follows from the
document's number (random.Random(number)), so a document is the same bytes in every run and
libraries of different sizes share their first documents.
"""

from __future__ import annotations

import random
from pathlib import Path

CHINESE_SHARE = 0.03  # one document in about 33
SECTIONS = (5, 7)
PARAGRAPHS = (2, 3)
SENTENCES = (4, 7)

_SYLLABLES = ("ka", "lo", "ven", "tri", "sa", "mor", "dal", "ni", "bre", "ost", "ha", "lin", "qu", "er", "zen",
              "pa", "ru", "mi", "tor", "gal", "fe", "nu", "sol", "ark", "bel", "cor", "dex", "ion", "vel", "wyn")
_SUFFIXES = ("GmbH", "Ltd", "& Sons", "Works", "Industries", "Group", "Manufacturing", "Partners", "Systems",
             "Foods", "Tools", "Textiles", "Components", "Logistics", "Labs")
CITIES = ("Ningbo", "Stuttgart", "Lyon", "Suzhou", "Porto", "Brno", "Dongguan", "Bologna", "Tampere", "Leeds",
          "Wenzhou", "Graz", "Lodz", "Bilbao", "Hefei", "Eindhoven", "Aarhus", "Chengdu", "Kosice", "Cork")
SECTORS = ("precision machining", "food processing", "furniture making", "industrial valves", "textile dyeing",
           "medical disposables", "packaging film", "bicycle parts", "electronic connectors", "ceramic tiles",
           "specialty chemicals", "farm machinery", "printed circuit boards", "organic cosmetics",
           "commercial bakery equipment", "hydraulic fittings", "pet food", "solar mounting frames",
           "injection moulding", "outdoor clothing")
TOPICS = {
    "Innovation": ("patent", "prototype", "research budget", "university lab", "new product line",
                   "process improvement", "design team", "pilot customer"),
    "Succession": ("founder", "next generation", "family council", "shareholder agreement", "management buy-out",
                   "successor", "handover plan", "holding company"),
    "Digital transformation": ("ERP system", "shop-floor sensors", "online shop", "cloud accounting",
                               "data dashboard", "predictive maintenance", "e-invoicing", "cyber security"),
    "Financing": ("bank loan", "credit line", "leasing contract", "equity investor", "guarantee fund",
                  "working capital", "grant programme", "invoice factoring"),
    "Staff and skills": ("apprentice", "night shift", "training budget", "retention bonus", "skilled welder",
                         "works council", "part-time engineer", "mentoring scheme"),
    "Exports": ("distributor", "trade fair", "customs broker", "letter of credit", "export licence",
                "currency hedge", "overseas warehouse", "local agent"),
    "Quality and certification": ("ISO 9001 audit", "customer complaint", "scrap rate", "test bench",
                                  "supplier audit", "traceability record", "CE marking", "recall drill"),
    "Public support": ("innovation voucher", "tax credit", "regional development bank", "cluster initiative",
                       "energy audit subsidy", "export credit agency", "little giant programme",
                       "digitalisation grant"),
    "Costs and pricing": ("energy bill", "raw material price", "price increase", "unit cost", "freight rate",
                          "overtime cost", "inventory level", "payment terms"),
}
_VERBS = ("introduced", "expanded", "postponed", "reviewed", "renegotiated", "financed", "tested", "cut back",
          "doubled", "outsourced", "brought in-house", "piloted")
_PEOPLE = ("the founder", "the managing director", "the finance manager", "the production head", "the daughter",
           "the son-in-law", "an outside adviser", "the works council", "the largest customer", "the house bank")

_TEMPLATES = (
    "{firm} {verb} its {w1} in {year}, which the owners say paid for itself within {months} months.",
    "In {city}, {firm} employs {staff} people in {sector} and sells {export}% of its output abroad.",
    "When {person} proposed a {w1}, the board asked for a cost estimate first; it came to EUR {money}.",
    "The {w1} was planned together with the {w2}, because neither would work without the other.",
    "According to {person}, the hardest part of the {w1} was persuading long-serving staff to change habits.",
    "Between {year} and {year2}, turnover grew from EUR {money} to EUR {money2} while headcount stayed at {staff}.",
    "Competitors in {sector} around {city} have mostly {verb} their {w2}, so {firm} could not wait much longer.",
    "The company kept its {w1} small at first: {count} machines, one team and a review after {months} months.",
    "A {w2} covered {pct}% of the cost, and the rest came from retained earnings.",
    "{person} notes that the {w1} only started to pay off once the {w2} was also in place.",
    "Customers noticed the change within {months} months, mainly through shorter delivery times of {days} days.",
    "The firm's margin in {sector} fell to {pct}% in {year}, mostly because of the {w1}.",
    "Owners of similar firms in {city} were asked how they handled the {w1}; {count} of them had {verb} it.",
    "Before the {w1}, orders were tracked on paper and in spreadsheets kept by {person}.",
    "{firm} learned that a {w2} is easier to agree when {person} is involved from the start.",
    "The {w1} became urgent after a large order from a customer in {city} was nearly lost.",
    "Banks in the region asked for a written plan covering the {w1} and the {w2} before lending.",
    "The owners set aside EUR {money} a year for the {w1}, roughly {pct}% of turnover.",
    "In {year2}, {firm} {verb} the {w2} and reported a scrap rate of {pct}% lower than before.",
    "Most of the {staff} employees were trained on the {w1} in groups of {count}, on paid working time.",
    "A consultant from {city} reviewed the {w2} and recommended doing it in {count} smaller steps.",
    "The {w1} turned out to matter more for winning customers in {sector} than the owners expected.",
    "Suppliers were asked to join the {w2}, and {count} of the {count2} main suppliers agreed.",
    "When energy prices rose in {year}, {firm} {verb} the {w1} to protect its margin.",
    "Looking back, {person} would have started the {w1} {count} years earlier.",
    "The {w1} is reviewed every {months} months by {person} and two outside members of the board.",
    "For a firm of {staff} people, a {w2} of this size is a large commitment.",
    "The regional chamber of commerce lists the {w1} at {firm} as an example for {sector} firms.",
    "Export customers in {count} countries now receive the same {w2} as domestic ones.",
    "The firm measured the effect of the {w1} on delivery reliability, which rose to {pct}%.",
    "After the {w1}, {firm} could quote prices in {days} days instead of {days2}.",
    "A shareholder agreement signed in {year} settles how the {w2} is decided if the family disagrees.",
    "The owners compared three offers for the {w1}, the cheapest at EUR {money} and the dearest at EUR {money2}.",
    "Staff turnover fell to {pct}% after the {w1}, against {pct2}% in the sector around {city}.",
    "{firm} keeps a reserve of {months} months of fixed costs, a rule set by {person} after {year}.",
    "Every new {w2} at {firm} is tried on one product line for {months} months before it is rolled out.",
)
_ZH_TEMPLATES = (
    "{firm}位于{city}，主营{sector}，现有员工{staff}人，出口占销售额的{export}%。",
    "{year}年，公司引入了{w1}，老板说{months}个月内就收回了成本。",
    "在讨论{w1}时，{person}坚持先做成本测算，预算约为{money}万元。",
    "{w1}和{w2}是一起规划的，因为两者缺一不可。",
    "据{person}介绍，推进{w1}最难的是说服老员工改变习惯。",
    "{year}年至{year2}年间，营业收入从{money}万元增长到{money2}万元，员工人数保持在{staff}人左右。",
    "同在{city}的{sector}企业大多已经完成了{w2}，{firm}不能再等了。",
    "公司先在一条产线上试点{w1}，{months}个月后再决定是否推广。",
    "{w2}覆盖了{pct}%的费用，其余部分来自企业自有资金。",
    "{person}认为，只有{w2}到位之后，{w1}才真正见效。",
    "客户在{months}个月内就感受到了变化，交货周期缩短到{days}天。",
    "银行在放贷前要求企业提交一份涵盖{w1}和{w2}的书面计划。",
    "公司每年拿出约{money}万元用于{w1}，约占营业收入的{pct}%。",
    "回头看，{person}表示应该提前{count}年启动{w1}。",
    "{firm}每{months}个月由{person}牵头复盘一次{w1}的进展。",
    "{w1}之后，员工流失率降到{pct}%，低于{city}同行的{pct2}%。",
)
_ZH_TOPICS = {
    "创新": ("专利申请", "研发投入", "新产品", "校企合作", "工艺改进", "样机试制"),
    "传承": ("家族委员会", "接班人培养", "股权安排", "二代接班", "职业经理人", "交接计划"),
    "数字化转型": ("ERP系统", "设备联网", "线上销售", "财务上云", "数据看板", "电子发票"),
    "融资": ("银行贷款", "授信额度", "融资租赁", "股权融资", "担保基金", "应收账款融资"),
    "人才": ("学徒制", "技能培训", "留人奖金", "夜班安排", "师带徒", "绩效考核"),
    "政策支持": ("专精特新认定", "研发费用加计扣除", "技改补贴", "创新券", "小巨人培育", "数字化补助"),
}
_ZH_CITIES = ("宁波", "苏州", "东莞", "温州", "合肥", "成都", "佛山", "台州", "无锡", "泉州")
_ZH_SECTORS = ("精密机械", "食品加工", "家具制造", "工业阀门", "纺织印染", "医疗耗材", "包装薄膜", "电子连接器")
_ZH_PEOPLE = ("创始人", "总经理", "财务负责人", "生产主管", "女儿", "外部顾问", "最大客户", "开户银行")
_ZH_FIRM = ("精工", "恒达", "瑞丰", "鑫源", "华泰", "永盛", "宏图", "力创", "嘉禾", "博远", "天成", "众联")


def firm_name(rng: random.Random) -> str:
    word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
    return f"{word} {rng.choice(_SUFFIXES)}"


def _slots(rng: random.Random, firm: str, city: str, sector: str, words: tuple[str, ...], chinese: bool) -> dict:  # type: ignore[type-arg]
    w1, w2 = rng.sample(words, 2)
    year = rng.randint(2008, 2023)
    return {"firm": firm, "city": city, "sector": sector, "w1": w1, "w2": w2, "year": year,
            "year2": year + rng.randint(1, 4), "months": rng.randint(3, 36), "staff": rng.randint(12, 480),
            "export": rng.randint(5, 85), "money": f"{rng.randint(20, 4000) * (1 if chinese else 1000):,}",
            "money2": f"{rng.randint(4000, 9000) * (1 if chinese else 1000):,}", "pct": rng.randint(2, 60),
            "pct2": rng.randint(2, 60), "count": rng.randint(2, 12), "count2": rng.randint(12, 40),
            "days": rng.randint(2, 14), "days2": rng.randint(15, 60),
            "person": rng.choice(_ZH_PEOPLE if chinese else _PEOPLE), "verb": rng.choice(_VERBS)}


def is_chinese(number: int) -> bool:
    return random.Random(number * 7919 + 1).random() < CHINESE_SHARE


def document(number: int, sections: tuple[int, int] = SECTIONS) -> tuple[str, str]:
    """(file name, Markdown text) of document `number`."""
    rng = random.Random(number)
    chinese = is_chinese(number)
    if chinese:
        firm = rng.choice(_ZH_CITIES) + rng.choice(_ZH_FIRM) + rng.choice(("机械", "科技", "实业", "制造")) + "有限公司"
        city, sector = rng.choice(_ZH_CITIES), rng.choice(_ZH_SECTORS)
        topics, templates = _ZH_TOPICS, _ZH_TEMPLATES
        title = f"{firm}{rng.choice(('经营调研报告', '转型案例', '发展情况说明'))}（{rng.randint(2015, 2024)}）"
    else:
        firm, city, sector = firm_name(rng), rng.choice(CITIES), rng.choice(SECTORS)
        topics, templates = TOPICS, _TEMPLATES
        title = f"{firm}: {rng.choice(('case study', 'annual review', 'owner interview', 'field report'))} " \
                f"on {sector} in {city}, {rng.randint(2015, 2024)}"
    lines = [f"# {title}", ""]
    for topic in rng.sample(sorted(topics), min(len(topics), rng.randint(*sections))):
        lines += [f"## {topic}", ""]
        for _ in range(rng.randint(*PARAGRAPHS)):
            sentences = [rng.choice(templates).format(**_slots(rng, firm, city, sector, topics[topic], chinese))
                         for _ in range(rng.randint(*SENTENCES))]
            lines += [("" if chinese else " ").join(sentences), ""]
    name = f"{'zh' if chinese else 'en'}-report-{number:06d}.md"
    return name, "\n".join(lines)


def write_documents(folder: Path, first: int, count: int, sections: tuple[int, int] = SECTIONS) -> list[Path]:
    """Writes documents first..first+count-1 into `folder` (kept when already written)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(first, first + count):
        name, text = document(number, sections)
        path = folder / name
        if not path.exists():
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
