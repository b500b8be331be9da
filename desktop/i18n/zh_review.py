"""中文: the review pane: refused values, the image's origin, the verifiers' line."""

ZH_REVIEW = {
    # a refused value is held (desktop/views/review_pane.py, main_window.py)
    "Fix the value or press Escape to give it up.": "请改正该值，或按 Esc 放弃。",
    "the value was refused": "该值被拒绝",
    "A value was not saved": "有一个值未保存",
    "The value typed in the review pane was refused: {reason}\n\nClose anyway and lose it?": (
        "审核面板中输入的值被拒绝：{reason}\n\n仍要关闭并丢弃它吗？"
    ),
    "Keep editing": "继续编辑",
}
