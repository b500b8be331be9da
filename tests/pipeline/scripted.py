"""Scripted model replies for the loopback server: each pipeline prompt gets a realistic,
slightly messy answer, so the whole engine (parse, retry, checks, verify) runs for real."""

from __future__ import annotations

import re

from core.devtools.loopback import last_user_text

LONG_CAPTION = (
    "The picture shows a flat rectangular sign with a thick black border on a plain coloured "
    "background. Large dark capital letters are printed across the board in two lines, and the "
    "text is sharp and easy to read from a distance. There are no people, animals or vehicles in "
    "the frame, and nothing else competes for attention, so the sign itself is the only subject. "
    "The lighting is even, there are no shadows or reflections, and the colours are flat, which "
    "suggests a printed or digitally made notice rather than a photograph of a real street."
)
LONG_CAPTION_ZH = (
    "画面是一块长方形的标牌，四周有一圈粗黑色的边框，背景是单一的颜色。标牌上用很大的深色字母印着两行文字，"
    "字迹清晰，从远处也能看清。画面中没有人、动物或车辆，也没有其他东西分散注意力，标牌本身就是唯一的主体。"
    "光线均匀，没有阴影和反光，颜色平整，看起来更像是印刷或电脑制作的告示，而不是街头拍摄的照片。"
)

LONG_ANSWER = (
    "The sign is a simple rectangle with a thick black frame, and its large dark letters stand out "
    "clearly against the plain background. Because there is nothing else in the picture, the "
    "message is the only thing a viewer notices, which is exactly what a notice like this is "
    "meant to achieve when it is placed where people walk past quickly."
)

GENERATED = {
    "multiple-choice": (
        "Here are the questions:\n"
        "<Q1>What colour is the border of the sign?</Q1>\n<C1>A. Red B. Black C. White D. Green</C1>\n<A1>(B)</A1>\n"
        "<Q2>How many lines of text are on the sign?</Q2>\n<C2>A. One\nB. Two\nC. Three\nD. Four</C2>\n<A2>B</A2>\n"
        "<Q3>According to the description, what is the shape of the sign?</Q3>\n"
        "<C3>A．Round B．Triangular C．Rectangular D．Oval</C3>\n<A3>答案：C</A3>"
    ),
    "yes/no": (
        "<Q1>Does the sign have a black border?</Q1><A1>Yes.</A1>\n"
        "<Q2>Is there a person standing next to the sign?</Q2><A2>No, there is nobody.</A2>\n"
        "<Q3>Is the text on the sign printed in capital letters?</Q3><A3>Yes</A3>\n"
        "<Q4>Is the sign round?</Q4><A4>No</A4>"
    ),
    "short-answer": (
        "<Q1>What is the shape of the sign?</Q1><A1>Rectangle</A1>\n"
        "<Q2>What colour are the letters?</Q2><A2>Black</A2>\n"
        "<Q3>How many lines of text are there?</Q3><A3>Two</A3>"
    ),
    "open questions": (
        f"<Q1>Describe the sign in detail.</Q1><A1>{LONG_ANSWER}</A1>\n"
        f"<Q2>What makes the message on the sign easy to notice?</Q2><A2>{LONG_ANSWER}</A2>\n"
        "<Q3>Where might a sign like this be placed?</Q3><A3>Near a door.</A3>"
    ),
}


def reply(body: dict, images: list) -> str:
    text = last_user_text(body)
    if "too short" in text or "太短" in text:
        return LONG_CAPTION_ZH if "太短" in text else LONG_CAPTION
    if "Describe the image in English" in text:
        # A sign whose OCR found FRESH BREAD gets a short first caption: the retry path runs.
        return (
            "A yellow sign."
            if "FRESH BREAD" in text
            else "Sure! Here is a description:\n" + LONG_CAPTION
        )
    if "请用中文为看不到图片的人描述" in text:
        return LONG_CAPTION_ZH
    for marker, output in GENERATED.items():
        if f"You write {marker}" in text or f"You write {marker.split()[0]}" in text:
            return output
    if "from the description alone" in text or "Does the description support" in text:
        return _from_caption(text)
    if "your best guess" in text:
        return "Yes"  # a blind model biased to yes
    if "letter of the most likely option" in text:
        return _blind_choice(text)
    if "Answer with the letter" in text:
        return "B." if "border" in text else "C"
    if "Answer with yes or no" in text:
        return "No" if "capital letters" in text else "Yes"
    if "single word or a short phrase" in text:
        return {"shape": "A rectangle", "colour": "Dark blue", "lines": "2"}.get(
            next((k for k in ("shape", "colour", "lines") if k in text), ""), "Unknown"
        )
    if "Rewrite the question below" in text:
        question = text.rsplit("Question:", 1)[-1].strip()
        return "Could you tell me: " + question[0].lower() + question[1:]
    if "Translate the following question-answer item from English into Chinese" in text or (
        "翻译成中文" in text
    ):
        return _translate(text)
    if "Transcribe all text" in text:
        return "FRESH BREAD\nOPEN 7-19"
    return "I am not sure what you are asking."


def _translate(prompt: str) -> str:
    q = re.search(r"<Q1>(.*?)</Q1>", prompt, re.S).group(1)
    answer = re.search(r"<A1>(.*?)</A1>", prompt, re.S).group(1)
    zh_answer = {"yes": "是", "no": "否"}.get(answer, answer if len(answer) == 1 else "一个答案")
    options = re.search(r"<C1>(.*?)</C1>", prompt, re.S)
    out = f"<Q1>（译）{q}</Q1>\n"
    if options:
        out += (
            "<C1>"
            + options.group(1).replace("A. ", "A．选项").replace("B. ", "B．选项")
            + "</C1>\n"
        )
    return out + f"<A1>{zh_answer}</A1>"


# Caption-only answers: some agree with the generated items, some do not, some cannot tell.
CAPTION_ANSWERS = {
    "colour is the border": "B",
    "lines of text are on the sign": "A",
    "shape of the sign?\nA.": "cannot tell",
    "have a black border": "yes",
    "person standing": "no",
    "capital letters": "cannot tell",
    "Is the sign round": "yes",
    "What is the shape of the sign": "A rectangle",
    "What colour are the letters": "Dark red",
    "lines of text are there": "Two",
    "Describe the sign in detail": "yes",
    "easy to notice": "yes",
    "Where might a sign": "no",
}


def _from_caption(prompt: str) -> str:
    asked = re.split(r"from the description alone|Question:", prompt, maxsplit=1)[-1]
    return next((a for k, a in CAPTION_ANSWERS.items() if k in asked), "cannot tell")


def _blind_choice(prompt: str) -> str:
    """Knows that signs have black borders (whatever the order); otherwise always says A."""
    if "border" in prompt:
        for line in prompt.splitlines():
            if line[:2] in ("A.", "B.", "C.", "D.") and "Black" in line:
                return line[0]
    return "A"
