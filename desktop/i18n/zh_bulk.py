"""中文: selection and bulk work in the grid, the trash, find and replace, domain editing."""

ZH_BULK = {
    # grid context menu (desktop/views/bulk_actions.py)
    "Accept": "接受",
    "Reject": "拒绝",
    "{n:,} image selected": "已选 {n:,} 张图像",
    "{n:,} images selected": "已选 {n:,} 张图像",
    "Move to domain": "移到领域",
    "Run a stage on the selection": "对所选图像运行阶段",
    "Find and replace in the selection…": "在所选图像中查找替换…",
    "Delete (to the trash)": "删除（移到回收站）",
    "Select all matching the filter": "全选符合筛选条件的图像",
    "Select images in the grid first": "请先在网格中选择图像",
    "{status}: {n:,} images": "{status}：{n:,} 张图像",
    "Move {n:,} images to {domain}": "将 {n:,} 张图像移到 {domain}",
    "Delete {n:,} images": "删除 {n:,} 张图像",
    "Moved {n:,} images to the trash; Ctrl+Z brings them back": (
        "已将 {n:,} 张图像移到回收站；按 Ctrl+Z 可恢复"
    ),
    "Ready to run on {n:,} selected images: check the options, then Start": (
        "将对所选的 {n:,} 张图像运行：请检查选项，然后点击开始"
    ),
    "Find and replace…": "查找替换…",
    # find and replace (desktop/views/replace_dialog.py)
    "Find and replace": "查找替换",
    "Questions": "问题",
    "Options": "选项",
    "Answers": "答案",
    "Field": "字段",
    "Before": "修改前",
    "After": "修改后",
    "Note": "备注",
    "Find": "查找",
    "Replace with": "替换为",
    "In": "范围",
    "Regular expression": "正则表达式",
    "RE2 syntax; \\1 in the replacement is the first group": "RE2 语法；替换文本中的 \\1 表示第一个分组",
    "Match case": "区分大小写",
    "Images matching the filter ({n:,})": "符合筛选条件的图像（{n:,}）",
    "Selected images ({n:,})": "所选图像（{n:,}）",
    "Preview": "预览",
    "Apply": "应用",
    "Looking…": "正在查找…",
    "left out: {why}": "不修改：{why}",
    "{n:,} changes in {images:,} images": "{images:,} 张图像中共 {n:,} 处修改",
    "{n:,} left out (the rules of an edit refuse them)": "{n:,} 处不修改（不符合编辑规则）",
    "Nothing matches: nothing would change": "没有匹配项：不会有任何修改",
    "Preview again to see the changes": "请重新预览以查看修改",
    "Tick at least one place to replace in": "请至少勾选一个替换范围",
    "Writing {n:,} changes…": "正在写入 {n:,} 处修改…",
    "Replace “{find}” with “{repl}” ({n:,} changes)": "将“{find}”替换为“{repl}”（{n:,} 处修改）",
    "Changed {n:,} values; Ctrl+Z in the main window undoes all of them": (
        "已修改 {n:,} 处；在主窗口按 Ctrl+Z 可全部撤销"
    ),
    # domains in the sidebar (desktop/views/domain_actions.py)
    "New domain…": "新建领域…",
    "New domain": "新建领域",
    "Rename domain {name}": "重命名领域 {name}",
    "Delete domain {name}": "删除领域 {name}",
    "snake_case id, e.g. street_food": "snake_case 标识，例如 street_food",
    "Title": "标题",
    "Rename…": "重命名…",
    "Rename": "重命名",
    "Delete…": "删除…",
    "Its seed questions and prompts go with it (a backup is taken first).": (
        "其种子问题和提示词将一并删除（删除前会先备份）。"
    ),
    "Keep its {n:,} images, without a domain": "保留其 {n:,} 张图像，不属于任何领域",
    "Move its {n:,} images to {domain}": "将其 {n:,} 张图像移到 {domain}",
    "Domain {name} added": "已添加领域 {name}",
    "Domain {old} is now {new}": "领域 {old} 已更名为 {new}",
    "Domain {name} deleted": "已删除领域 {name}",
    # the trash (desktop/views/trash_dialog.py)
    "Trash…": "回收站…",
    "Trash": "回收站",
    "When": "时间",
    "Instructions": "指令",
    "Captions": "描述",
    "Restore": "恢复",
    "Delete for good": "永久删除",
    "Deleted images keep their files until deleted for good": "已删除的图像在永久删除前保留其文件",
    "The trash is empty": "回收站是空的",
    "Restored {n} delete(s)": "已恢复 {n} 次删除",
    "Emptied {n} delete(s) from the trash": "已从回收站永久删除 {n} 次删除",
    "Delete these images and their files for good? This cannot be undone.": (
        "永久删除这些图像及其文件？此操作无法撤销。"
    ),
}
