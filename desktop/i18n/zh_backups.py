"""中文: backups, restore and the project check."""

ZH_BACKUPS = {
    "The project file is damaged": "项目文件已损坏",
    "Restore the newest backup": "恢复最新的备份",
    "The damaged file is kept in backups/ as “before-restore”; nothing is deleted.": (
        "损坏的文件以“before-restore”保存在 backups/ 中；不会删除任何内容。"
    ),
    "Restore failed": "恢复失败",
    "Snapshot": "快照",
    "Taken (UTC)": "时间（UTC）",
    "Size": "大小",
    "Backups": "备份",
    "Backups…": "备份…",
    "Back up now": "立即备份",
    "Restore selected…": "恢复所选…",
    "{n} snapshot in {folder}": "{folder} 中有 {n} 个快照",
    "{n} snapshots in {folder}": "{folder} 中有 {n} 个快照",
    "Backup written: {name}": "已写入备份：{name}",
    "Restore a backup": "恢复备份",
    "Replace the project's database with {name} ({reason})? The window closes the "
    "project, keeps the current file in backups/ (restoring it undoes this) and opens "
    "the project again.": (
        "用 {name}（{reason}）替换项目数据库？窗口将关闭项目，把当前文件保存在 backups/ 中"
        "（恢复它即可撤销此操作），然后重新打开项目。"
    ),
    "Project check: {n} problem (run `mmstudio doctor --fix`)": (
        "项目检查：{n} 个问题（运行 `mmstudio doctor --fix`）"
    ),
    "Project check: {n} problems (run `mmstudio doctor --fix`)": (
        "项目检查：{n} 个问题（运行 `mmstudio doctor --fix`）"
    ),
}
