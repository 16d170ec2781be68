"""A hand-coded ReportLab script that makes the same injection handout as pars-docs.

It is the yardstick for pars-docs' speed: the same pages, fonts (the bundled DejaVu Sans),
type sizes, wording, boxes, icons and footers as ``pars-docs make pars-defect-injection
--sedation --medication Eliquis``, written the way one would write it by hand for one clinic,
with no pars-docs code: platypus, ``Table``s for the patient block, the key times and the
call boxes, ``KeepTogether`` for headings, and ReportLab's usual "page X of Y" canvas. The
wording is carried inline below, with the patient's values as fields; the times are worked
out with plain ``datetime`` arithmetic. It covers morning starts (7:00 to 11:59). It does not
tag the PDF for screen readers or write XMP metadata, which pars-docs does for every handout
(see docs/benchmarks.md).

    python benchmarks/baseline_handout.py -o handout.pdf                   # one handout
    python benchmarks/baseline_handout.py --count 500 --out-dir folder     # a loop, one process

``benchmarks/bench.py`` checks that its text and page count match pars-docs' before it times
it (``benchmarks/update_baseline.py`` copies new wording in). With ``SOURCE_DATE_EPOCH`` set,
the output is reproducible, as pars-docs' is.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from datetime import datetime, timedelta
from math import ceil
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
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

FONTS = Path(__file__).resolve().parents[1] / "pars_docs" / "fonts"
MARGIN = 0.5 * inch
FOOTER_SIZE = 10
FOOTER_TOP = 0.3 * inch + 2 * (FOOTER_SIZE + 3)  # the footer's rule; two lines below it
FRAME_BOTTOM = 0.3 * inch + 2 * (14 + 3)  # as pars-docs: clear of a large-print footer too
INK, MUTED = colors.HexColor("#111111"), colors.HexColor("#444444")
RULE, EMERGENCY = colors.HexColor("#1f3a5f"), colors.HexColor("#9b1c1c")
WRITE_IN = "_" * 24
SHORT_ITEM = 48  # list items no longer than this print in two columns
BOX_PAD = 12

# The handout, as pars-docs composes it for this set with sedation and Eliquis (copied by
# update_baseline.py). Fields in braces are the patient's values; <b> marks bold, as in
# ReportLab paragraph markup.
HANDOUT = [
    ("header", "Pars defect injection", "Your instructions, made for you"),
    (
        "patient",
        [
            ("Patient", "{patient}", False),
            ("Procedure", "Pars defect injection", True),
            ("Date", "{date}", False),
            ("Start time", "<b>{start}</b>", False),
            ("Arrive by", "<b>{arrive}</b>", False),
            ("Your clinician", "{clinician}", False),
        ],
    ),
    (
        "keytimes",
        "Your key times",
        [
            ("p", "Check each box when it is done. The details follow."),
            ("time", "<b>{med_last}</b>", "Take your last Eliquis (apixaban). Then stop it."),
            ("time", "<b>{food}</b>", "Eat your last food."),
            ("time", "<b>{liquids}</b>", "Drink your last clear liquids."),
            ("time", "<b>{arrive_at}</b>", "Arrive. We start at <b>{start}</b>."),
            (
                "time",
                "<b>{med_restart}</b>",
                "Start Eliquis (apixaban) again, unless we tell you to wait.",
            ),
            ("time", "<b>{day_after}</b>", "You may take off your bandage."),
            ("time", "<b>{day5}</b>", "Follow-up: come in or call us."),
            ("phone", "Questions? Call us"),
            ("p", "When to call us or 911: see the end of this handout."),
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
                "food",
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
                "medicine",
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
                None,
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
                None,
                [("check", "Loose, comfortable clothes that are easy to take off and put on.")],
            ),
            (
                "group",
                "Tell us before your shot",
                None,
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
                "car",
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
                None,
                [
                    ("check", "Get here by <b>{arrive_at}</b>."),
                    ("bullet", "Your shot is set to start at <b>{start}</b>."),
                ],
            ),
            (
                "group",
                "How long it takes",
                None,
                [
                    ("bullet", "The shot itself takes about 15 to 30 minutes."),
                    ("bullet", "You go home the same day."),
                ],
            ),
            (
                "group",
                "What happens during the shot",
                None,
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
                None,
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
                None,
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
                "activity",
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
                None,
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
                "bandage",
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
                None,
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
                None,
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
        "questions",
        "Questions for your care team",
        2,
        [("p", "Write your questions here. Bring this handout to your visit.")],
    ),
    (
        "callbox",
        "Call us if you have",
        "phone",
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
        "phone",
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
    ("footer", "{patient}", "pars-defect-injection v1.1.0, reviewed 2026-11-20"),
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
    def lead(size):
        return round(size * 1.18, 1)

    body = ParagraphStyle(
        "body", fontName="Sans", fontSize=12, leading=lead(12), textColor=INK, spaceAfter=3
    )

    def style(name, size, bold=False, **kw):
        font = "Sans-Bold" if bold else "Sans"
        return ParagraphStyle(
            name, parent=body, fontName=font, fontSize=size, leading=lead(size), **kw
        )

    def item(name, label, size):
        # Wrapped lines start under the first line's text, 0.6 em after the label.
        indent = ceil(2 + pdfmetrics.stringWidth(label, "Sans", size) + 0.6 * size)
        return ParagraphStyle(
            name,
            parent=body,
            leftIndent=indent,
            bulletIndent=2,
            bulletFontName="Sans",
            bulletFontSize=size,
            spaceAfter=2,
            allowWidows=0,  # with allowOrphans=0: an item of up to three lines never breaks
        )

    return {
        "body": body,
        "title": style("title", 22, True, spaceBefore=4, spaceAfter=2, textColor=RULE),
        "subtitle": style("subtitle", 14, textColor=MUTED, spaceAfter=6),
        "section": style("section", 18, True, spaceBefore=7, spaceAfter=3, textColor=RULE),
        "group": style("group", 14.5, True, spaceBefore=5, spaceAfter=2),
        # The questions area's heading, right under the instructions.
        "questions": style("questions", 14.5, True, spaceAfter=2),
        "check": item("check", "\u2610", 15),
        "bullet": item("bullet", "\u2022", 12),
        "step": item("step", "10.", 12),
        "field": style("field", 13, True, spaceAfter=0),
        "phone": style("phone", 16, True, spaceAfter=2),
        "box_title": style("box_title", 17, True, spaceAfter=3),
        "key_box": style("key_box", 15, spaceAfter=0),
        "key_when": style("key_when", 12, True, spaceAfter=0),
        "key_what": style("key_what", 12, spaceAfter=0),
        "key_note": style("key_note", 12, spaceAfter=0),
        "key_phone": style("key_phone", 14, True, spaceAfter=0),
    }


def clock(moment: datetime) -> str:
    if (moment.hour, moment.minute) == (12, 0):
        return "noon"
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def fields(patient: str, start: datetime, clinician: str) -> dict[str, str]:
    """The patient's values: the visit, and each moment worked out from the start time."""
    if not 7 <= start.hour < 12:
        raise SystemExit("baseline: give a morning start time, 7:00 to 11:59")

    def day(moment: datetime) -> str:
        # The year only when the day falls in another year than the visit.
        year = f", {moment.year}" if moment.year != start.year else ""
        return f"{moment:%A}, {moment:%B} {moment.day}{year}"

    def when(moment: datetime) -> str:
        return f"{day(moment)} at {clock(moment)}"

    end = start + timedelta(minutes=30)  # the longest the shot takes
    arrive = start - timedelta(minutes=30)
    return {
        "patient": patient.replace("&", "&amp;").replace("<", "&lt;"),
        "clinician": clinician.replace("&", "&amp;").replace("<", "&lt;"),
        "date": f"{start:%A}, {start:%B} {start.day}, {start.year}",
        "start": clock(start),
        "arrive": clock(arrive),
        "food": when(start - timedelta(hours=6)),
        "liquids": when(start - timedelta(hours=2)),
        "arrive_at": when(arrive),
        "med_last": day(start - timedelta(days=4)),  # apixaban: 3 clear days before
        "med_restart": day(start + timedelta(days=1)),
        "day_after": when(end + timedelta(hours=24)),
        "two_days_after": when(end + timedelta(hours=48)),
        "day5": day(start + timedelta(days=5)),
    }


# Small line drawings beside some headings, in a square of side s.


def _food(c, s):
    x = s * 0.22
    c.line(x, s * 0.08, x, s * 0.92)
    for dx in (-0.12, 0, 0.12):
        c.line(x + s * dx, s * 0.92, x + s * dx, s * 0.62)
    c.line(x - s * 0.12, s * 0.62, x + s * 0.12, s * 0.62)
    path = c.beginPath()
    path.moveTo(s * 0.5, s * 0.7)
    path.lineTo(s * 0.56, s * 0.1)
    path.lineTo(s * 0.84, s * 0.1)
    path.lineTo(s * 0.9, s * 0.7)
    path.close()
    c.drawPath(path, stroke=1, fill=0)
    c.line(s * 0.53, s * 0.42, s * 0.87, s * 0.42)


def _medicine(c, s):
    c.translate(s / 2, s / 2)
    c.rotate(40)
    w, h = s * 0.9, s * 0.36
    c.roundRect(-w / 2, -h / 2, w, h, h / 2, stroke=1, fill=0)
    path = c.beginPath()
    path.moveTo(0, -h / 2)
    path.lineTo(-w / 2 + h / 2, -h / 2)
    path.arcTo(-w / 2, -h / 2, -w / 2 + h, h / 2, startAng=270, extent=-180)
    path.lineTo(0, h / 2)
    path.close()
    c.drawPath(path, stroke=1, fill=1)


def _car(c, s):
    path = c.beginPath()
    points = [(0.04, 0.5), (0.22, 0.54), (0.34, 0.78), (0.7, 0.78), (0.82, 0.54), (0.96, 0.5)]
    path.moveTo(s * 0.04, s * 0.28)
    for x, y in [*points, (0.96, 0.28)]:
        path.lineTo(s * x, s * y)
    path.close()
    c.drawPath(path, stroke=1, fill=0)
    c.line(s * 0.22, s * 0.54, s * 0.82, s * 0.54)
    c.line(s * 0.52, s * 0.54, s * 0.52, s * 0.78)
    for x in (0.26, 0.74):
        c.circle(s * x, s * 0.24, s * 0.11, stroke=1, fill=1)


def _activity(c, s):
    c.circle(s * 0.55, s * 0.86, s * 0.1, stroke=1, fill=1)
    for x1, y1, x2, y2 in (
        (0.52, 0.72, 0.46, 0.4),
        (0.5, 0.66, 0.3, 0.5),
        (0.5, 0.66, 0.7, 0.52),
        (0.46, 0.4, 0.28, 0.06),
        (0.46, 0.4, 0.62, 0.22),
        (0.62, 0.22, 0.72, 0.04),
    ):
        c.line(s * x1, s * y1, s * x2, s * y2)


def _bandage(c, s):
    c.translate(s / 2, s / 2)
    c.rotate(-35)
    w, h = s * 1.0, s * 0.34
    c.roundRect(-w / 2, -h / 2, w, h, h / 2.5, stroke=1, fill=0)
    c.rect(-w * 0.16, -h / 2, w * 0.32, h, stroke=1, fill=0)
    for dx in (-0.06, 0.06):
        for dy in (-0.06, 0.06):
            c.circle(s * dx, s * dy, s * 0.025, stroke=0, fill=1)


def _phone(c, s):
    path = c.beginPath()
    path.moveTo(s * 0.18, s * 0.92)
    path.lineTo(s * 0.36, s * 0.74)
    path.lineTo(s * 0.28, s * 0.6)
    path.curveTo(s * 0.34, s * 0.46, s * 0.48, s * 0.32, s * 0.62, s * 0.26)
    path.lineTo(s * 0.76, s * 0.36)
    path.lineTo(s * 0.94, s * 0.18)
    path.lineTo(s * 0.8, s * 0.06)
    path.curveTo(s * 0.46, s * 0.06, s * 0.06, s * 0.46, s * 0.06, s * 0.8)
    path.close()
    c.drawPath(path, stroke=1, fill=1)


def _pencil(c, s):
    c.line(s * 0.04, s * 0.04, s * 0.96, s * 0.04)
    c.translate(s * 0.5, s * 0.56)
    c.rotate(45)
    w, h = s * 0.78, s * 0.22
    c.rect(-w / 2 + h, -h / 2, w - h, h, stroke=1, fill=0)
    c.line(w / 2 - h * 0.8, -h / 2, w / 2 - h * 0.8, h / 2)
    path = c.beginPath()
    path.moveTo(-w / 2 + h, -h / 2)
    path.lineTo(-w / 2, 0)
    path.lineTo(-w / 2 + h, h / 2)
    path.close()
    c.drawPath(path, stroke=1, fill=1)


ICONS = {
    "food": _food,
    "medicine": _medicine,
    "car": _car,
    "activity": _activity,
    "bandage": _bandage,
    "phone": _phone,
    "pencil": _pencil,
}


class IconHeading(Flowable):
    """A heading with its icon to the left of the first line."""

    def __init__(self, icon: str, heading: Paragraph) -> None:
        super().__init__()
        self.icon, self.heading = icon, heading
        self.size = heading.style.fontSize * 1.05
        self.indent = self.size + heading.style.fontSize * 0.45

    def wrap(self, availWidth, availHeight):
        self.width = availWidth
        self.height = self.heading.wrap(availWidth - self.indent, availHeight)[1]
        return self.width, self.height

    def getSpaceBefore(self):
        return self.heading.getSpaceBefore()

    def getSpaceAfter(self):
        return self.heading.getSpaceAfter()

    def draw(self):
        style, c = self.heading.style, self.canv
        y = self.height - style.leading + (style.leading - self.size) / 2 + style.fontSize * 0.05
        c.saveState()
        c.translate(0, y)
        c.setStrokeColor(RULE)
        c.setFillColor(RULE)
        c.setLineWidth(max(1.0, self.size / 14))
        c.setLineCap(1)
        c.setLineJoin(1)
        ICONS[self.icon](c, self.size)
        c.restoreState()
        self.heading.drawOn(c, self.indent, 0)


class WritingLines(Flowable):
    """Ruled lines for the patient's questions: as many as the page has room for above the
    flowables that follow them (``below``), from ``least`` to ``most``."""

    def __init__(self, least, most, gap, below, page_height):
        super().__init__()
        self.least, self.most, self.gap = least, most, gap
        self.below, self.page_height = below, page_height

    def wrap(self, availWidth, availHeight):
        count = self.least
        if availHeight <= self.page_height:  # KeepTogether measures with no limit
            below = sum(f.wrap(availWidth, availHeight)[1] for f in self.below)
            room = int((availHeight - below - 1) // self.gap)
            count = max(self.least, min(self.most, room))
        self.count = count
        self.width, self.height = availWidth, count * self.gap
        return self.width, self.height

    def draw(self):
        c = self.canv
        c.saveState()
        c.setStrokeColor(RULE)
        c.setLineWidth(0.6)
        for k in range(1, self.count + 1):
            c.line(0, self.height - k * self.gap, self.width, self.height - k * self.gap)
        c.restoreState()


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
        """Who the handout is for and the page number; under them, the instruction set."""
        width = self._pagesize[0]
        first = FOOTER_TOP - FOOTER_SIZE - 3
        self.saveState()
        self.setFont("Sans", FOOTER_SIZE)
        self.setFillColor(INK)
        self.setStrokeColor(RULE)
        self.setLineWidth(0.6)
        self.line(MARGIN, FOOTER_TOP, width - MARGIN, FOOTER_TOP)
        self.drawString(MARGIN, first, self.footer[0])
        self.drawRightString(width - MARGIN, first, f"Page {page} of {pages}")
        self.setFillColor(MUTED)
        self.drawString(MARGIN, first - FOOTER_SIZE - 3, self.footer[1])
        self.restoreState()


def box_style(color, width=2.5, top=7, bottom=8) -> TableStyle:
    return TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), "Sans"),
            ("BOX", (0, 0), (-1, -1), width, color),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), BOX_PAD),
            ("RIGHTPADDING", (0, 0), (-1, -1), BOX_PAD),
            ("TOPPADDING", (0, 0), (-1, -1), top),
            ("BOTTOMPADDING", (0, 0), (-1, -1), bottom),
        ]
    )


def heading(text, style, icon, s):
    para = Paragraph(text, s[style])
    return IconHeading(icon, para) if icon else para


def columns(paras, width, gutter=18):
    """Short list items in two columns, read down the first, cut where the columns come out
    most even."""
    column = (width - gutter) / 2
    sizes = [p.wrap(column, 1e6)[1] + p.getSpaceAfter() for p in paras]
    cut = min(range(1, len(paras)), key=lambda k: max(sum(sizes[:k]), sum(sizes[k:])))
    table = Table([[paras[:cut], paras[cut:]]], colWidths=[column + gutter, column])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), "Sans"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (0, 0), gutter),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    table.spaceAfter = paras[-1].getSpaceAfter()
    return table


def items(entries, s, width) -> list:
    """A list's flowables as (lead, rest) runs: each lead is kept together, so a heading or
    a lead-in paragraph stays with the item after it; a short list stays whole, and the last
    two items stay together."""
    runs, intro, kinds, step = [], [], [], 0
    for entry in entries:
        kind, text = entry[0], entry[1]
        if kind == "p":
            intro.append(Paragraph(text, s["body"]))
            continue
        if kind == "group":
            inner = items(entry[3], s, width)
            lead, rest = inner[0] if inner else ([], [])
            runs.append(
                [[*intro, heading(text, "group", entry[2], s), *lead], [*rest, *flat(inner[1:])]]
            )
        else:
            if kind == "step":
                step += 1
            mark = {"check": "\u2610", "bullet": "\u2022", "step": f"{step}."}[kind]
            runs.append([[*intro, Paragraph(text, s[kind], bulletText=mark)], []])
        kinds.append(kind)
        intro = []
    if intro:
        runs.append([intro, []])
        kinds.append("p")
    listed = [e for e in entries if e[0] in ("check", "bullet", "step")]
    if listed and "group" not in kinds:
        everything = [f for lead, rest in runs for f in lead + rest]
        short = max(len(plain(e[1])) for e in listed) <= SHORT_ITEM and "step" not in kinds
        if len(listed) >= 3 and short:
            paras = [f for f in everything if f.bulletText]
            others = [f for f in everything if not f.bulletText]
            return [[[*others, columns(paras, width)], []]]
        if len(listed) <= 4:
            return [[everything, []]]
    if len(kinds) >= 2 and all(kind in ("check", "bullet", "step") for kind in kinds[-2:]):
        last = runs.pop()
        runs[-1][0].extend(last[0])
    return runs


def flat(runs, keep=True) -> list:
    out = []
    for lead, rest in runs:
        out.extend([KeepTogether(lead)] if keep and len(lead) > 1 else lead)
        out.extend(rest)
    return out


def plain(text: str) -> str:
    return re.sub("<[^>]*>", "", text).replace("&lt;", "<").replace("&amp;", "&")


def fill(value, values: dict[str, str]):
    """``value`` (text, or lists and tuples of it) with the patient's values put in."""
    if isinstance(value, str):
        return value.format(**values)
    if not isinstance(value, (list, tuple)):
        return value  # a flag, an icon's name (None) or a number of lines
    return type(value)(fill(part, values) for part in value)


def patient_block(entries, s, width) -> Table:
    """The patient's fields in a ruled box, two to a row (a wide one on its own row), each
    label beside its value."""
    rows, run = [], []
    for label, value, wide in entries:
        if wide:
            rows += [run] if run else []
            rows.append([(label, value)])
            run = []
        else:
            run.append((label, value))
            if len(run) == 2:
                rows.append(run)
                run = []
    rows += [run] if run else []
    pad = 6
    cells = []
    for row in rows:
        texts = [f'<font name="Sans" size="12" color="#444444">{a}</font> {b}' for a, b in row]
        paras = [Paragraph(text, s["field"]) for text in texts]
        # Equal cells, unless one needs more room to keep to one line.
        needs = [
            pdfmetrics.stringWidth(f"{a} ", "Sans", 12)
            + pdfmetrics.stringWidth(plain(b), "Sans-Bold", 13)
            + 2 * pad
            for a, b in row
        ]
        equal = width / len(row)
        if any(need > equal for need in needs):
            needs = [max(need, equal / 2) for need in needs]
            widths = [width * need / sum(needs) for need in needs]
        else:
            widths = [equal] * len(row)
        inner = Table([paras], colWidths=widths)
        inner.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), "Sans"),
                    ("LINEBEFORE", (1, 0), (-1, -1), 0.4, RULE),
                    ("LEFTPADDING", (0, 0), (-1, -1), pad),
                    ("RIGHTPADDING", (0, 0), (-1, -1), pad),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                ]
            )
        )
        cells.append([inner])
    table = Table(cells, colWidths=[width])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), "Sans"),
                ("BOX", (0, 0), (-1, -1), 1.2, RULE),
                ("LINEBELOW", (0, 0), (-1, -2), 0.4, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def no_break(text: str) -> str:
    """``text`` with each number kept on the line of the word before it ("December 3",
    "at 2:00"), and a short last word ("AM") on the line before it."""
    text = re.sub(r" (?=\d)", "\u00a0", text)
    head, _, tail = text.rpartition(" ")
    return f"{head}\u00a0{tail}" if head and len(plain(tail)) <= 5 else text


def key_times(title, entries, s, width) -> Table:
    """The page-1 checklist: a box with a line per key time (check box, day and time, what
    to do), under its title and introduction, over the phone line and a closing note."""
    box = s["key_box"].fontSize * 1.4
    # The day and time take half the line after the check box, measured on the page's text
    # width (the frame's padding aside), and the action the rest, up to 6 points from the
    # box's border.
    when = (LETTER[0] - 2 * MARGIN - 2 * BOX_PAD - box) / 2
    span, rows, style = [], [], []
    notes = [e for e in entries if e[0] == "p"]
    span.append(Paragraph(title, s["box_title"]))
    span.extend(Paragraph(text, s["key_note"]) for _, text in notes[:1])
    rows = [[p, "", ""] for p in span]
    for _, at, what in (e for e in entries if e[0] == "time"):
        row = len(rows)
        rows.append(
            [
                Paragraph("\u2610", s["key_box"]),
                Paragraph(no_break(at), s["key_when"]),
                Paragraph(what, s["key_what"]),
            ]
        )
        style += [
            ("LINEABOVE", (0, row), (-1, row), 0.4, RULE),
            ("TOPPADDING", (0, row), (-1, row), 2),
            ("BOTTOMPADDING", (0, row), (-1, row), 4),
        ]
    for _, label in (e for e in entries if e[0] == "phone"):
        rows.append([Paragraph(f"{label}: {WRITE_IN}", s["key_phone"]), "", ""])
    rows.extend([Paragraph(text, s["key_note"]), "", ""] for _, text in notes[1:])
    table = Table(rows, colWidths=[BOX_PAD + box, when, width - BOX_PAD - box - when])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), "Sans"),
                ("BOX", (0, 0), (-1, -1), 2.5, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("LEFTPADDING", (0, 0), (0, -1), BOX_PAD),
                ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, 0), 8),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 10),
                *[("SPAN", (0, r), (-1, r)) for r, row in enumerate(rows) if row[1] == ""],
                *style,
            ]
        )
    )
    return table


def call_box(block, s, width) -> Table:
    kind, title, icon, entries = block
    inner = [heading(title, "box_title", icon, s)]
    inner += [Paragraph(f"{e[1]}: {WRITE_IN}", s["phone"]) for e in entries if e[0] == "phone"]
    bullets = [
        Paragraph(e[1], s["bullet"], bulletText="\u2022") for e in entries if e[0] == "bullet"
    ]
    listed = False
    for entry in entries:
        if entry[0] == "p":
            inner.append(Paragraph(entry[1], s["body"]))
        elif entry[0] == "bullet" and not listed:
            listed = True
            inner += [columns(bullets, width - 2 * BOX_PAD)] if len(bullets) >= 3 else bullets
    box = Table([[inner]], colWidths=[width])
    box.setStyle(box_style(RULE if kind == "callbox" else EMERGENCY))
    return box


def end_matter(blocks, s, width, page_height) -> list:
    """The questions area and both call boxes, kept together on the last page."""
    gap = s["body"].leading * 1.7
    out, boxes = [], []
    for block in blocks:
        if block[0] == "questions":
            _, title, lines, entries = block
            out.append(heading(title, "questions", "pencil", s))
            out += [Paragraph(e[1], s["body"]) for e in entries if e[0] == "p"]
        else:
            boxes += [Spacer(1, 10)] if boxes else []
            boxes.append(call_box(block, s, width))
    below = [Spacer(1, gap / 2), *boxes]
    lines = WritingLines(lines, 4 * lines, gap, below, page_height)
    return [KeepTogether([*out, Spacer(1, gap / 2), lines, *below])]


def story(blocks: list, s, width: float, page_height: float) -> list:
    out = []
    end = [b for b in blocks if b[0] in ("questions", "callbox", "emergency")]
    for block in blocks:
        kind = block[0]
        if end and block is end[0]:
            out += end_matter(end, s, width, page_height)
        if kind == "header":
            out += [Paragraph(block[1], s["title"]), Paragraph(block[2], s["subtitle"])]
        elif kind == "patient":
            out += [patient_block(block[1], s, width), Spacer(1, 8)]
        elif kind == "keytimes":
            out += [key_times(block[1], block[2], s, width), Spacer(1, 6)]
        elif kind == "notice":
            out.append(Paragraph(block[1], s["body"]))
        elif kind == "section":
            runs = items(block[2], s, width)
            first = runs[0] if runs else [[], []]
            out.append(KeepTogether([Paragraph(block[1], s["section"]), *first[0]]))
            out += first[1] + flat(runs[1:])
    return out


def handout(target, patient: str, start: datetime, clinician: str, s) -> None:
    blocks = fill(HANDOUT, fields(patient, start, clinician))
    doc = BaseDocTemplate(
        target,
        pagesize=LETTER,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=FRAME_BOTTOM,
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
    doc.build(story(blocks, s, doc.width - 12, doc.height - 12), canvasmaker=canvas)


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
