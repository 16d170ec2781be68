"""A hand-coded ReportLab script that makes the same injection handout as pars-docs.

It is the yardstick for pars-docs' speed: the same pages, fonts (the bundled DejaVu Sans),
type sizes, wording, boxes and footers as ``pars-docs make pars-defect-injection --sedation
--medication Eliquis``, written the way one would write it by hand for one clinic, with no
pars-docs code. The wording is carried inline below, with the patient's values as fields; the
times are worked out with plain ``datetime`` arithmetic. It covers morning starts (7:00 to
11:59), where no time falls on midnight or noon, which pars-docs writes in words. It does
not tag the PDF for screen readers or write XMP metadata, which pars-docs does for every
handout (about a seventh of its rendering time, see docs/benchmarks.md).

    python benchmarks/baseline_handout.py -o handout.pdf                   # one handout
    python benchmarks/baseline_handout.py --count 500 --out-dir folder     # a loop, one process

``benchmarks/bench.py`` checks that its text and page count match pars-docs' before it times
it (``benchmarks/update_baseline.py`` copies new wording in). With ``SOURCE_DATE_EPOCH`` set,
the output is reproducible, as pars-docs' is.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import datetime, timedelta
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.fonts import addMapping
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

FONTS = Path(__file__).resolve().parents[1] / "pars_docs" / "fonts"
MARGIN = 0.7 * inch
INK, MUTED = colors.HexColor("#111111"), colors.HexColor("#444444")
RULE, EMERGENCY = colors.HexColor("#1f3a5f"), colors.HexColor("#9b1c1c")
WRITE_IN = "_" * 24

# The handout, as pars-docs composes it for this set with sedation and Eliquis (copied by
# update_baseline.py). Fields in braces are the patient's values; <b> marks bold, as in
# ReportLab paragraph markup.
HANDOUT = [
    ("header", "Pars defect injection", "Your instructions, made for you"),
    (
        "patient",
        [
            ("Patient", "{patient}"),
            ("Procedure", "Pars defect injection"),
            ("Date", "{date}"),
            ("Start time", "<b>{start}</b>"),
            ("Arrive by", "<b>{arrive}</b>"),
            ("Your clinician", "{clinician}"),
        ],
    ),
    (
        "notice",
        "These are general instructions. If your own doctor or nurse "
        "tells you something different, do what they tell you.",
    ),
    (
        "section",
        "About your pars defect injection",
        [
            (
                "p",
                "Each bone in your spine has a thin bridge of bone at the "
                "back. This bridge is called the pars. A pars defect is a "
                "crack or gap in it. This is also called spondylolysis. In a "
                "pars defect injection, your doctor uses X-ray pictures to "
                "guide a thin needle to the crack. Then your doctor puts in "
                "numbing medicine and a steroid. The steroid calms swelling. "
                "The shot can ease your pain. It can also show if the crack "
                "is what causes your pain.",
            ),
            ("p", "Your doctor may suggest this shot for:"),
            ("bullet", "A crack or gap in the pars (spondylolysis)."),
            (
                "bullet",
                "Low back pain that has lasted a long time. This is common in teens and athletes.",
            ),
            ("bullet", "Back pain that gets worse when you lean back, twist, or carry a load."),
            ("bullet", "Pain that has not gone away with physical therapy or other care."),
            (
                "bullet",
                "Finding out where your pain comes from before other care, such as surgery.",
            ),
        ],
    ),
    (
        "section",
        "Before your shot",
        [
            (
                "group",
                "Eating and drinking",
                [
                    (
                        "p",
                        "You will get medicine to help you relax. To keep you "
                        "safe, your stomach must be empty.",
                    ),
                    ("check", "Eat your last food before <b>{food}</b>."),
                    (
                        "check",
                        "Drink only clear liquids until <b>{liquids}</b>. Clear "
                        "liquids are water, apple juice, clear soda, and black "
                        "coffee or tea with no milk.",
                    ),
                    ("check", "Do not eat or drink anything after that."),
                    (
                        "bullet",
                        "If you eat or drink after these times, we may need to "
                        "move your shot to another day.",
                    ),
                ],
            ),
            (
                "group",
                "Your medicines",
                [
                    (
                        "p",
                        "Some medicines need care before your shot. Some medicines "
                        "and supplements make you bleed more easily. You may need "
                        "to stop them for a few days.",
                    ),
                    (
                        "check",
                        "Take your last Eliquis (apixaban) on <b>{med_last}</b>. "
                        "Then stop it. Start it again on <b>{med_restart}</b>. "
                        "Check with the doctor who prescribed it before you stop "
                        "it.",
                    ),
                    ("check", "Do not stop any medicine unless we tell you to."),
                    ("check", "Tell us if a doctor gives you a new medicine before your shot."),
                ],
            ),
            (
                "group",
                "What to bring",
                [
                    ("check", "A photo ID"),
                    ("check", "Your insurance card"),
                    ("check", "A list of all your medicines, vitamins, and herbs"),
                    ("check", "This handout"),
                ],
            ),
            (
                "group",
                "What to wear",
                [("check", "Loose, comfortable clothes that are easy to take off and put on.")],
            ),
            (
                "group",
                "Tell us before your shot",
                [
                    ("p", "Call us before your visit if you:"),
                    ("bullet", "Are pregnant, might be pregnant, or are breastfeeding."),
                    ("bullet", "Are allergic to numbing medicine, X-ray dye, or steroids."),
                    ("bullet", "Have a fever, an infection, or feel sick."),
                    ("bullet", "Have a health problem that is not under control right now."),
                    ("bullet", "Take a blood thinner."),
                    ("bullet", "Have diabetes."),
                ],
            ),
            (
                "group",
                "Getting home",
                [
                    (
                        "check",
                        "Have an adult drive you home. You cannot drive yourself "
                        "after medicine to help you relax.",
                    ),
                    ("check", "Ask an adult to stay with you for the first night after your shot."),
                ],
            ),
        ],
    ),
    (
        "section",
        "On the day of your shot",
        [
            (
                "group",
                "When to arrive",
                [
                    ("check", "Get here by <b>{arrive_at}</b>."),
                    ("bullet", "Your shot is set to start at <b>{start}</b>."),
                ],
            ),
            (
                "group",
                "How long it takes",
                [
                    ("bullet", "The shot itself takes about 15 to 30 minutes."),
                    ("bullet", "You go home the same day."),
                ],
            ),
            (
                "group",
                "What happens during the shot",
                [
                    ("step", "You lie face down on a table."),
                    ("step", "We clean the skin on your lower back. Then we numb the skin."),
                    (
                        "step",
                        "Your doctor uses X-ray pictures to guide a thin needle to "
                        "the crack in the bone.",
                    ),
                    (
                        "step",
                        "Your doctor may use a little dye to check that the needle "
                        "is in the right spot.",
                    ),
                    ("step", "Your doctor slowly puts in the numbing medicine and the steroid."),
                    ("step", "The needle comes out. We put a small bandage on the spot."),
                ],
            ),
        ],
    ),
    (
        "section",
        "After your shot",
        [
            (
                "group",
                "What to expect",
                [
                    (
                        "bullet",
                        "Your pain may ease right away. This is from the numbing "
                        "medicine. This early relief may fade as the numbing wears "
                        "off.",
                    ),
                    (
                        "bullet",
                        "The steroid works more slowly. It should reach its full "
                        "effect by <b>{day5}</b>.",
                    ),
                    (
                        "bullet",
                        "Relief may last for weeks or months. It depends on your "
                        "injury and how active you are.",
                    ),
                    (
                        "bullet",
                        "The spot where the needle went in may be sore or bruised. "
                        "This should go away in a few days.",
                    ),
                    (
                        "bullet",
                        "How much the shot helps tells your doctor what to try "
                        "next. This could be another shot, physical therapy, or "
                        "surgery to steady your spine.",
                    ),
                ],
            ),
            (
                "group",
                "The rest of the day",
                [
                    (
                        "check",
                        "Do not drink alcohol, drive, or make big decisions until "
                        "<b>{day_after}</b>. The medicine to help you relax can "
                        "slow you down.",
                    )
                ],
            ),
            (
                "group",
                "Activity",
                [
                    (
                        "bullet",
                        "You may do light activities on the day of your shot. "
                        "Walking is good for you.",
                    ),
                    (
                        "check",
                        "Do not do hard exercise, sports, or heavy lifting until "
                        "<b>{two_days_after}</b>.",
                    ),
                    ("check", "Try not to bend or twist your back until then."),
                ],
            ),
            (
                "group",
                "Soreness and pain",
                [
                    (
                        "check",
                        "Put ice on the sore spot for up to 20 minutes at a time, "
                        "no more often than every 2 hours. Wrap the ice in a cloth "
                        "first.",
                    ),
                    (
                        "check",
                        "Take pain medicine only the way the label or your doctor "
                        "says. Do not restart a medicine we told you to stop "
                        "before its start day.",
                    ),
                ],
            ),
            (
                "group",
                "Caring for the shot site",
                [
                    (
                        "check",
                        "Keep the small bandage on until <b>{day_after}</b>. Then "
                        "you may take it off.",
                    ),
                    ("bullet", "You may shower after <b>{day_after}</b>."),
                ],
            ),
            (
                "group",
                "If you have diabetes",
                [
                    ("p", "The steroid can raise your blood sugar for a few days."),
                    (
                        "check",
                        "Check your blood sugar more often than usual for the next few days.",
                    ),
                    (
                        "check",
                        "Call the doctor who treats your diabetes if your blood "
                        "sugar stays higher than your goal.",
                    ),
                ],
            ),
            (
                "group",
                "Tell us how it went",
                [
                    (
                        "check",
                        "Call us or come in on or after <b>{day5}</b>. Tell us how "
                        "much the shot helped.",
                    ),
                    (
                        "check",
                        "Write down how your pain feels each day until then. This "
                        "helps your doctor plan what comes next.",
                    ),
                ],
            ),
        ],
    ),
    (
        "callbox",
        "Call us if you have",
        [
            ("phone", "Clinic phone"),
            ("phone", "After hours"),
            ("bullet", "A fever of 100.4 °F (38 °C) or higher, or chills."),
            ("bullet", "Redness, swelling, warmth, or pus where the needle went in."),
            ("bullet", "New numbness or tingling in your legs, but you can still walk."),
            (
                "bullet",
                "A headache that gets worse when you sit or stand, and better when you lie down.",
            ),
            ("bullet", "Trouble passing urine (pee), but you can still control your bladder."),
            ("bullet", "Pain that gets worse and does not feel like normal soreness."),
            ("p", "If you cannot reach us and you feel worse, go to the nearest emergency room."),
        ],
    ),
    (
        "emergency",
        "Call 911 right away if you have",
        [
            ("bullet", "Trouble breathing."),
            ("bullet", "Chest pain or pressure."),
            ("bullet", "Swelling of your face, lips, tongue, or throat."),
            ("bullet", "Sudden weakness in your legs, or you cannot stand or walk."),
            (
                "bullet",
                "You cannot control your bladder or bowels, or you are numb between your legs.",
            ),
            ("bullet", "Fainting, or you are very hard to wake up."),
        ],
    ),
    ("footer", "{patient}", "pars-defect-injection v1.1.0"),
]


def register_fonts() -> None:
    pdfmetrics.registerFont(TTFont("Sans", str(FONTS / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("Sans-Bold", str(FONTS / "DejaVuSans-Bold.ttf")))
    for bold, italic, name in (
        (0, 0, "Sans"),
        (1, 0, "Sans-Bold"),
        (0, 1, "Sans"),
        (1, 1, "Sans-Bold"),
    ):
        addMapping("Sans", bold, italic, name)


def styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle(
        "body", fontName="Sans", fontSize=12, leading=15.5, textColor=INK, spaceAfter=4
    )

    def item(name, indent, bullet_size):
        return ParagraphStyle(
            name,
            parent=body,
            leftIndent=indent,
            bulletIndent=2,
            bulletFontName="Sans",
            bulletFontSize=bullet_size,
            spaceAfter=3,
        )

    bold = {"parent": body, "fontName": "Sans-Bold"}
    return {
        "body": body,
        "title": ParagraphStyle(
            "title", **bold, fontSize=24, leading=29, spaceBefore=6, spaceAfter=2, textColor=RULE
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=body, fontSize=14, leading=18, textColor=MUTED, spaceAfter=8
        ),
        "section": ParagraphStyle(
            "section", **bold, fontSize=19, leading=24, spaceBefore=12, spaceAfter=4, textColor=RULE
        ),
        "group": ParagraphStyle(
            "group", **bold, fontSize=15, leading=19, spaceBefore=8, spaceAfter=3
        ),
        "check": item("check", 24, 17),
        "bullet": item("bullet", 18, 12),
        "step": item("step", 24, 12),
        "label": ParagraphStyle("label", parent=body, leading=15, textColor=MUTED, spaceAfter=0),
        "value": ParagraphStyle("value", **bold, fontSize=13, leading=16, spaceAfter=0),
        "phone": ParagraphStyle("phone", **bold, fontSize=17, leading=22, spaceAfter=2),
        "box_title": ParagraphStyle("box_title", **bold, fontSize=18, leading=22, spaceAfter=4),
    }


def clock(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def day(moment: datetime) -> str:
    return f"{moment:%A}, {moment:%B} {moment.day}"


def fields(patient: str, start: datetime, clinician: str) -> dict[str, str]:
    """The patient's values: the visit, and each moment worked out from the start time."""
    if not 7 <= start.hour < 12:
        raise SystemExit("baseline: give a morning start time, 7:00 to 11:59")
    end = start + timedelta(minutes=30)  # the longest the shot takes
    arrive = start - timedelta(minutes=30)
    return {
        "patient": patient.replace("&", "&amp;").replace("<", "&lt;"),
        "clinician": clinician.replace("&", "&amp;").replace("<", "&lt;"),
        "date": f"{day(start)}, {start.year}",
        "start": clock(start),
        "arrive": clock(arrive),
        "food": f"{day(start - timedelta(hours=6))} at {clock(start - timedelta(hours=6))}",
        "liquids": f"{day(start - timedelta(hours=2))} at {clock(start - timedelta(hours=2))}",
        "arrive_at": f"{day(arrive)} at {clock(arrive)}",
        "med_last": day(start - timedelta(days=4)),  # apixaban: 3 clear days before
        "med_restart": day(start + timedelta(days=1)),
        "day_after": f"{day(end + timedelta(hours=24))} at {clock(end + timedelta(hours=24))}",
        "two_days_after": (
            f"{day(end + timedelta(hours=48))} at {clock(end + timedelta(hours=48))}"
        ),
        "day5": day(start + timedelta(days=5)),
    }


class NumberedCanvas(Canvas):
    """ReportLab's usual "page X of Y" recipe: keep each page until the count is known."""

    footer = ("", "")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages = []

    def showPage(self):
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        for number, state in enumerate(self._pages, 1):
            self.__dict__.update(state)
            self.draw_footer(number, len(self._pages))
            super().showPage()
        super().save()

    def draw_footer(self, page: int, pages: int) -> None:
        width = self._pagesize[0]
        y = MARGIN * 0.55
        self.saveState()
        self.setFont("Sans", 10)
        self.setFillColor(INK)
        self.setStrokeColor(RULE)
        self.setLineWidth(0.6)
        self.line(MARGIN, y + 13, width - MARGIN, y + 13)
        self.drawString(MARGIN, y, self.footer[0])
        self.drawCentredString(width / 2, y, f"Page {page} of {pages}")
        self.drawRightString(width - MARGIN, y, self.footer[1])
        self.restoreState()


def items(entries, s) -> list:
    """A list's flowables; a heading or a lead-in paragraph stays with the item after it, and
    the last two single lines stay together."""
    runs, intro, step = [], [], 0
    for entry in entries:
        kind, text = entry[0], entry[1]
        if kind == "p":
            intro.append(Paragraph(text, s["body"]))
            continue
        if kind == "group":
            inner = items(entry[2], s)
            lead, rest = inner[0] if inner else ([], [])
            title = Paragraph(text, s["group"])
            runs.append([[*intro, title, *lead], [*rest, *flat(inner[1:])]])
        else:
            if kind == "step":
                step += 1
            mark = {"check": "\u2610", "bullet": "\u2022", "step": f"{step}."}[kind]
            runs.append([[*intro, Paragraph(text, s[kind], bulletText=mark)], []])
        intro = []
    if intro:
        runs.append([intro, []])
    if len(runs) >= 2 and not runs[-1][1] and not runs[-2][1]:
        last = runs.pop()
        runs[-1][0].extend(last[0])
    return runs


def flat(runs, keep=True) -> list:
    out = []
    for lead, rest in runs:
        out.extend([KeepTogether(lead)] if keep and len(lead) > 1 else lead)
        out.extend(rest)
    return out


def fill(value, values: dict[str, str]):
    """``value`` (text, or lists and tuples of it) with the patient's values put in."""
    if isinstance(value, str):
        return value.format(**values)
    return type(value)(fill(part, values) for part in value)


def story(blocks: list, s, width: float) -> list:
    out = []
    for block in blocks:
        kind = block[0]
        if kind == "header":
            out += [Paragraph(block[1], s["title"]), Paragraph(block[2], s["subtitle"])]
        elif kind == "patient":
            rows = [
                [Paragraph(label, s["label"]), Paragraph(value, s["value"])]
                for label, value in block[1]
            ]
            table = Table(rows, colWidths=[1.6 * inch, width - 1.6 * inch])
            table.setStyle(
                TableStyle(
                    [
                        ("FONTNAME", (0, 0), (-1, -1), "Sans"),
                        ("BOX", (0, 0), (-1, -1), 1.2, RULE),
                        ("LINEBELOW", (0, 0), (-1, -2), 0.4, RULE),
                        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                        ("LEFTPADDING", (0, 0), (-1, -1), 6),
                        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                        ("TOPPADDING", (0, 0), (-1, -1), 4),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                    ]
                )
            )
            out += [table, Spacer(1, 8)]
        elif kind == "notice":
            out.append(Paragraph(block[1], s["body"]))
        elif kind == "section":
            runs = items(block[2], s)
            first = runs[0] if runs else [[], []]
            out.append(KeepTogether([Paragraph(block[1], s["section"]), *first[0]]))
            out += first[1] + flat(runs[1:])
        elif kind in ("callbox", "emergency"):
            inner = [Paragraph(block[1], s["box_title"])]
            inner += [
                Paragraph(f"{e[1]}: {WRITE_IN}", s["phone"]) for e in block[2] if e[0] == "phone"
            ]
            inner += flat(items([e for e in block[2] if e[0] != "phone"], s), keep=False)
            box = Table([[inner]], colWidths=[width])
            box.setStyle(
                TableStyle(
                    [
                        ("FONTNAME", (0, 0), (-1, -1), "Sans"),
                        ("BOX", (0, 0), (-1, -1), 2.5, RULE if kind == "callbox" else EMERGENCY),
                        ("LEFTPADDING", (0, 0), (-1, -1), 12),
                        ("RIGHTPADDING", (0, 0), (-1, -1), 12),
                        ("TOPPADDING", (0, 0), (-1, -1), 8),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
                    ]
                )
            )
            out += [Spacer(1, 10), box]
    return out


def handout(target, patient: str, start: datetime, clinician: str, s) -> None:
    blocks = fill(HANDOUT, fields(patient, start, clinician))
    doc = BaseDocTemplate(
        target,
        pagesize=LETTER,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN * 1.2,
        title="Pars defect injection: instructions for your procedure",
        author="pars-docs",
        creator="baseline",
        invariant=int(bool(os.environ.get("SOURCE_DATE_EPOCH"))),
        initialFontName="Sans",
        lang="en",
    )
    doc.addPageTemplates(
        [
            PageTemplate(
                id="page",
                frames=[Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")],
            )
        ]
    )
    footer = next(b for b in blocks if b[0] == "footer")
    canvas = type("Footer", (NumberedCanvas,), {"footer": (patient, footer[2])})
    # A frame pads its content by 6 points on each side.
    doc.build(story(blocks, s, doc.width - 12), canvasmaker=canvas)


NAMES = [
    "Ana Díaz",
    "Nguyễn Thị Ánh",
    "Łukasz Żółć",
    "Ελένη Παπαδοπούλου",
    "Дмитрий Ёлкин",
    "John O'Brien",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default="baseline.pdf")
    parser.add_argument("--patient", default="Ana Díaz")
    parser.add_argument("--date", default="2026-12-03")
    parser.add_argument("--time", default="8:00")
    parser.add_argument("--clinician", default="Dr. Sam Lee")
    parser.add_argument("--count", type=int, default=0, help="make this many, in one process")
    parser.add_argument("--out-dir", type=Path, help="where --count writes its handouts")
    args = parser.parse_args()
    register_fonts()
    s = styles()
    if not args.count:
        start = datetime.strptime(f"{args.date} {args.time}", "%Y-%m-%d %H:%M")
        handout(args.output, args.patient, start, args.clinician, s)
        return
    began = time.perf_counter()
    for i in range(args.count):
        start = datetime(2026, 12, 1 + (i // 40) % 28, 7 + (i * 7 % 300) // 60, (i * 7) % 60)
        target = args.out_dir / f"{i}.pdf" if args.out_dir else os.devnull
        handout(str(target), f"{NAMES[i % len(NAMES)]} {i}", start, "Dr. Sam Lee", s)
    seconds = time.perf_counter() - began
    print(f"{args.count} handouts in {seconds:.2f} s = {args.count / seconds:.1f}/s")


if __name__ == "__main__":
    main()
