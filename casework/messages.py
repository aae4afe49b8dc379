"""What staff read: one catalogue, Chinese first, English for `--lang en`."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # errors
    "id_format": (
        "身份证号码格式不正确：应为18位，最后一位可为X",
        "Resident ID must be 18 characters (last may be X)",
    ),
    "id_region": ("身份证号码的地区代码不存在", "Resident ID has an unknown region code"),
    "id_birthdate": ("身份证号码中的出生日期无效", "Resident ID contains an invalid birth date"),
    "id_check_digit": (
        "身份证号码校验位不正确，请核对",
        "Resident ID check digit is wrong (GB 11643)",
    ),
    "phone": (
        "电话号码无效：请输入11位手机号或带区号的固定电话",
        "Phone must be an 11-digit mobile or a landline with area code",
    ),
    "email": ("电子邮箱地址无效：{value}", "Invalid email address: {value}"),
    "date": (
        "{field} 日期无效：{value}（格式 YYYY-MM-DD）",
        "{field}: invalid date {value} (use YYYY-MM-DD)",
    ),
    "slug": ("{field} 代码无效：{value}", "{field}: invalid code {value}"),
    "name": (
        "姓名不能为空、不能含控制字符、不超过64字",
        "Name must be non-empty, without control characters, at most 64 characters",
    ),
    "unknown_playbook": (
        "没有这种案件类型：{slug}（用 casework playbooks 查看）",
        "Unknown case type: {slug} (see casework playbooks)",
    ),
    "unknown_case": ("找不到案件：{case}", "No such case: {case}"),
    "unknown_agency": ("找不到单位：{agency}", "No such agency: {agency}"),
    "unknown_material": (
        "案件 {case} 没有材料：{material}",
        "Case {case} has no material {material}",
    ),
    "unknown_request": ("案件 {case} 没有请求 #{request}", "Case {case} has no request #{request}"),
    "unknown_field": (
        "此类案件没有字段：{key}（可用：{known}）",
        "No such field for this case type: {key} (known: {known})",
    ),
    "missing_field": (
        "缺少必填字段：{key}（{label}），用 --field {key}=…",
        "Missing required field {key} ({label}): use --field {key}=…",
    ),
    "field_format": ("--field 的格式应为 KEY=VALUE：{value}", "--field must be KEY=VALUE: {value}"),
    "future_date": ("{field} 不能晚于今天：{value}", "{field} cannot be in the future: {value}"),
    "case_closed": ("案件 {case} 已办结，不能再记录", "Case {case} is closed"),
    "not_waiting": (
        "案件 {case} 没有在等待 {agency} 的答复",
        "Case {case} is not waiting for an answer from {agency}",
    ),
    "which_material": (
        "请用 --material 指明是哪份材料：{materials}",
        "Say which material with --material: {materials}",
    ),
    "forward_to_missing": (
        "转办（forwarded）必须用 --forward-to 指明转往的单位",
        "forwarded needs --forward-to AGENCY",
    ),
    "forward_to_same": (
        "不能转给同一单位：{agency}",
        "Cannot forward to the same agency: {agency}",
    ),
    "not_waiting_applicant": (
        "材料 {material} 并未等待申请人补充",
        "Material {material} is not waiting for the applicant",
    ),
    "materials_missing": (
        "案件 {case} 还缺材料：{materials}",
        "Case {case} still misses: {materials}",
    ),
    "bad_outcome": (
        "答复结果无效：{value}（可选：{choices}）",
        "Invalid outcome {value} (choose: {choices})",
    ),
    "stack_down": (
        "本地服务未运行：请先执行 casework up",
        "The local stack is not running: run casework up first",
    ),
    "settings_invalid": ("设置有误：{detail}", "Invalid settings: {detail}"),
    "playbook_invalid": ("案件类型文件有误：\n{detail}", "Playbook file is invalid:\n{detail}"),
    "as_of_format": (
        "--as-of 日期无效：{value}（格式 YYYY-MM-DD）",
        "--as-of: invalid date {value} (use YYYY-MM-DD)",
    ),
    "service_failed": ("{service} 启动失败，详见 {log}", "{service} failed to start; see {log}"),
    "bad_reason": (
        "来访原因无效：{value}（可选：{choices}）",
        "Invalid reason {value} (choose: {choices})",
    ),
    "letter_lang": (
        "信函语言无效：{value}（zh 中文 / en 英文）",
        "Invalid letter language: {value} (zh or en)",
    ),
    "tracking_number": (
        "邮件单号无效：{value}（8–30位字母或数字，如 EMS 的 EA123456789CN）",
        "Invalid tracking number: {value} (8–30 letters or digits, e.g. EA123456789CN)",
    ),
    "nothing_to_post": (
        "案件 {case} 没有待寄出的信函",
        "Case {case} has no letter waiting to be posted",
    ),
    "which_letter": (
        "案件 {case} 有多封待寄出的信函，请用 --letter 指定：{letters}",
        "Case {case} has several letters to post; choose one with --letter: {letters}",
    ),
    "not_a_postal_letter": (
        "案件 {case} 的记录 #{letter} 不是待寄出的信函",
        "Record #{letter} of case {case} is not a letter to post",
    ),
    "tracking_in_use": (
        "邮件单号 {tracking} 已登记在 {case} 的信函 #{letter}",
        "Tracking number {tracking} is already recorded for letter #{letter} of {case}",
    ),
    "posted_on": (
        "寄出日期无效：{value}（不能晚于今天，也不能早于信函打印日 {written}）",
        "Invalid posting date {value} (not after today, not before the letter was printed: {written})",
    ),
    "already_posted": (
        "信函 #{letter} 已于 {posted_on} 寄出，单号 {tracking}",
        "Letter #{letter} was posted on {posted_on}, tracking number {tracking}",
    ),
    "letter_posted": (
        "已登记寄出：{case} 信函 #{letter}（{agency}），单号 {tracking}",
        "Posted: {case} letter #{letter} ({agency}), tracking number {tracking}",
    ),
    "bad_reply_via": (
        "答复方式无效：{value}（{choices}）",
        "Invalid --via {value} ({choices})",
    ),
    "bad_via": (
        "收到方式无效：{value}（post/home-visit/email/phone）",
        "Invalid --via {value} (post/home-visit/email/phone)",
    ),
    "appointment_format": (
        "预约时间无效：{value}（格式 YYYY-MM-DD HH:MM）",
        "Invalid time {value} (use YYYY-MM-DD HH:MM)",
    ),
    "appointment_in_past": ("预约时间已过：{at}", "The appointment time has passed: {at}"),
    "agency_exists": ("单位已存在：{agency}", "Agency already exists: {agency}"),
    "bad_month": (
        "月份格式无效：{value}（格式 YYYY-MM，如 2026-11）",
        "Invalid month {value} (use YYYY-MM, e.g. 2026-11)",
    ),
    "bad_format": (
        "格式无效：{value}（md / csv / xlsx）",
        "Invalid format {value} (md / csv / xlsx)",
    ),
    "reason_needed": (
        '显示未脱敏信息须写明理由：--full "理由"',
        'Showing unmasked data needs a reason: --full "reason"',
    ),
    # reports
    "no_data": ("{month} 没有任何案件数据。", "No case data for {month}."),
    "report_files": ("报告文件：{files}", "Report files: {files}"),
    "ui_password": (
        "登录 Prefect 界面的口令（整行，含冒号）在 {path}",
        "The Prefect UI password (the whole line, colon included) is in {path}",
    ),
    "receipt_recorded": (
        "已收下材料（不计跑动，目前共跑动 {trips} 次）。",
        "Materials taken in (no trip; trips so far: {trips}).",
    ),
    "appointment_booked": ("已预约 {agency}：{at}。", "Appointment booked with {agency}: {at}."),
    "purge_dry_run": (
        "将清除 {count} 个办结超过 {days} 天的案件的个人信息：{cases}（未执行）",
        "Would purge personal data of {count} case(s) closed over {days} days ago: {cases} (dry run)",
    ),
    "purged": (
        "已清除 {count} 个办结超过 {days} 天的案件的个人信息：{cases}",
        "Purged personal data of {count} case(s) closed over {days} days ago: {cases}",
    ),
    "keys_rotated": (
        "已用新密钥重新加密 {count} 位申请人的身份证号和电话。",
        "Re-encrypted {count} applicants' ID and phone numbers.",
    ),
    "withdrawn": ("案件 {case} 已终止办理。", "Case {case} withdrawn."),
    "agency_added": ("已添加单位：{agency}", "Agency added: {agency}"),
    "opened": (
        "已受理案件 {case}（{title}），承诺 {promised} 前办结。",
        "Opened case {case} ({title}); promised by {promised}.",
    ),
    "flow_started": ("案件流程已启动：{url}", "Case flow started: {url}"),
    "flow_not_started": (
        "案件已保存，但流程未启动（{reason}）；casework up 后会自动补上。",
        "Case saved but its flow did not start ({reason}); it will be started after casework up.",
    ),
    "reply_recorded": (
        "已记录 {agency} 的答复：{outcome}。",
        "Recorded {agency}'s answer: {outcome}.",
    ),
    "visit_recorded": (
        "已记录申请人到窗口（第 {trips} 次）。",
        "Recorded the applicant's visit (trip {trips}).",
    ),
    "flow_woken": ("已通知案件流程继续。", "Case flow resumed."),
    "flow_not_woken": (
        "案件流程暂未唤醒（{reason}）；定时巡检会处理。",
        "Case flow not resumed now ({reason}); the scheduled sweep will.",
    ),
    "stack_up": ("本地服务已启动。Prefect 界面：{ui}", "Local stack is up. Prefect UI: {ui}"),
    "stack_down_done": ("本地服务已停止。", "Local stack stopped."),
    "no_cases": ("没有案件。", "No cases."),
    "mailbox_not_configured": (
        "没有配置单位邮箱：请设置 CASEWORK_IMAP_HOST、CASEWORK_IMAP_USERNAME、CASEWORK_IMAP_PASSWORD",
        "No office mailbox: set CASEWORK_IMAP_HOST, CASEWORK_IMAP_USERNAME, CASEWORK_IMAP_PASSWORD",
    ),
    "mailbox_unreachable": (
        "无法收取邮箱 {host}：{reason}（邮件仍在邮箱中，下次再收）",
        "Cannot read the mailbox at {host}: {reason} (the mail stays there for the next try)",
    ),
    "mailbox_not_filed": (
        "邮件无法保存到本机：{reason}（邮件仍在邮箱中，下次再收）",
        "Cannot keep mail on this machine: {reason} (the mail stays in the mailbox)",
    ),
    "mailbox_failed": (
        "；无法处理 {count} 封（已在邮箱中加星标，请人工查看）",
        "; {count} could not be filed (flagged in the mailbox for staff)",
    ),
    "mailbox_polled": (
        "收取邮箱：新邮件 {fetched} 封，归入案件 {filed} 封{cases}，找不到案件 {unmatched} 封{failed}",
        "Mailbox: {fetched} new, {filed} filed on cases{cases}, {unmatched} unmatched{failed}",
    ),
    "relay_done": (
        "外发邮件：已发送 {sent} 封，暂未送达（稍后自动重试）{retry} 封，退信 {failed} 封",
        "Outbox: {sent} sent, {retry} to retry later, {failed} bounced",
    ),
    "chase_done": (
        "巡检完成（按 {as_of}）：唤醒 {woken} 个案件，启动 {started} 个流程，发出 {sent} 封邮件。",
        "Sweep done (as of {as_of}): woke {woken} case(s), started {started} flow(s), sent {sent} email(s).",
    ),
}


def _printable(value: object) -> str:
    """Echoed user input stays on one line: control characters are shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))


def message(code: str, lang: str = "zh", **params: object) -> str:
    """The text for `code` in `lang` ("zh" or "en"), with params filled in."""
    zh, en = MESSAGES.get(code, (code, code))
    template = en if lang == "en" else zh
    safe = {k: v if k == "detail" else _printable(v) for k, v in params.items()}
    try:
        return template.format(**safe)
    except (KeyError, IndexError):
        return template
