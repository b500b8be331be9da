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
    # backend keys (desktop/views/settings)
    "Not saved: there is no OS keyring on this machine to keep the key. Put the key in an "
    "environment variable, type the variable's name in Key variable, and leave API key empty.": (
        "未保存：本机没有可保存密钥的系统钥匙串。请把密钥放进一个环境变量，在“密钥变量”中填写该变量名，"
        "并让“API 密钥”留空。"
    ),
    "the key comes from the environment variable {var}": "密钥来自环境变量 {var}",
    "{var} is not set in this environment: set it, or type a key": (
        "当前环境中未设置 {var}：请设置它，或输入密钥"
    ),
    # jobs
    " · {n:,} failed": " · {n:,} 个失败",
    "Re-sample": "重新采样",
    "Ask the model again for this job's images with a new seed and temperature, "
    "instead of the answers the reply cache gave": (
        "用新的随机种子和温度为该任务的图像重新询问模型，而不沿用回复缓存中的答案"
    ),
    "Re-sampling the images of job {id}…": "正在为任务 {id} 的图像重新采样…",
    # where the image came from
    "imported file": "导入的文件",
    "also seen in {n} other place(s)": "另在 {n} 处出现",
    # the verifiers, on one line
    "Verifiers:": "验证：",
    "image ✓": "图像 ✓",
    "image ≠ {answer}": "图像 ≠ {answer}",
    "caption ✓": "描述 ✓",
    "caption ≠ {answer}": "描述 ≠ {answer}",
    "caption: cannot tell": "描述：无法判断",
    "answered without the image": "不看图像也能答出",
    "risk {risk:.2f}": "风险 {risk:.2f}",
}
