"""What staff read: one catalogue, Chinese first, English for `--lang en`."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # errors
    "id_format": (
        "身份证号码格式不正确：应为18位，最后一位可为X",
        "Resident ID must be 18 characters (last may be X)",
    ),
    "digits_ascii": (
        "{field}只能使用数字 0–9（全角数字可以，其他文字的数字不行）",
        "{field}: use the digits 0–9 only",
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
    "text_invalid": (
        "{field}：不能含控制字符，不超过 {max_length} 字",
        "{field}: no control characters, at most {max_length} characters",
    ),
    "text_required": ("{field}：必须填写", "{field} is required"),
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
    "office_exists": ("街道 {office} 已存在", "Office {office} already exists"),
    "office_unknown": (
        "没有代码为 {office} 的街道：先用 casework office add 添加",
        "No office with code {office}: add it first with casework office add",
    ),
    "account_exists": ("用户名 {username} 已被使用", "Username {username} is taken"),
    "password_short": (
        "密码至少 {length} 个字符",
        "The password needs at least {length} characters",
    ),
    "bad_role": ("角色应为 {choices} 之一", "Role must be one of {choices}"),
    "login_failed": ("用户名或密码不正确", "Wrong username or password"),
    "login_too_many": (
        "登录失败次数过多，请 {minutes} 分钟后再试",
        "Too many failed sign-ins; try again in {minutes} minutes",
    ),
    "status_link_unknown": (
        "查询链接无效：请核对告知书上的二维码，或致电窗口",
        "This status link is not valid: check the QR code on the notice, or call the window",
    ),
    "no_letter": (
        "案件 {case} 没有这封信函（或尚未归档）",
        "Case {case} has no such letter (or it is not filed yet)",
    ),
    "managers_only": ("只有主管可以这样做", "Only a manager can do this"),
    "link_unknown": (
        "答复码 {typed} 无效：请核对信函上的答复码，或致电经办人",
        "Reply code {typed} is not valid: check the code on the letter, or call the office",
    ),
    "link_expired": (
        "该答复链接已于 {at} 过期：请致电 {phone} 答复",
        "This reply link expired at {at}: please answer by phone on {phone}",
    ),
    "link_used": (
        "该答复链接已于 {at} 使用过，答复已记录；如需更正请致电 {phone}",
        "This reply link was used at {at} and the answer recorded; to correct it call {phone}",
    ),
    "link_too_many": (
        "尝试次数过多，请 {minutes} 分钟后再试",
        "Too many attempts; try again in {minutes} minutes",
    ),
    "forward_name_missing": (
        "请填写转往的单位名称",
        "Name the body the request was passed to",
    ),
    "needs_what_missing": (
        "请写明需要申请人补充什么",
        "Say what the applicant must supply",
    ),
    "not_waiting": (
        "案件 {case} 没有在等待 {agency} 的答复",
        "Case {case} is not waiting for an answer from {agency}",
    ),
    "already_answered": (
        "{agency} 的答复已于 {at} 记录（{outcome}），未重复记录",
        "{agency}'s answer was already recorded at {at} ({outcome}); not recorded twice",
    ),
    "answer_before_request": (
        "答复日期不能早于发函时间（{sent}）",
        "The answer cannot be dated before the request was sent ({sent})",
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
    "prefect_busy": (
        "流程服务器繁忙，一分钟内由自动巡检补上",
        "Prefect's server is busy; the reconciler catches up within a minute",
    ),
    "settings_invalid": ("设置有误：{detail}", "Invalid settings: {detail}"),
    "playbook_invalid": ("案件类型文件有误：\n{detail}", "Playbook file is invalid:\n{detail}"),
    "as_of_format": (
        "--as-of 日期无效：{value}（格式 YYYY-MM-DD）",
        "--as-of: invalid date {value} (use YYYY-MM-DD)",
    ),
    "service_failed": ("{service} 启动失败，详见 {log}", "{service} failed to start; see {log}"),
    "postgres_missing": (
        "未安装 PostgreSQL：请以 root 执行 apt-get install postgresql",
        "PostgreSQL is not installed: apt-get install postgresql (as root)",
    ),
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
    "agency_exists": (
        "单位已存在：{agency}（casework agency list 可查代码）",
        "Agency already exists: {agency} (see casework agency list)",
    ),
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
    # the office's rules
    "bad_rating": (
        "评价无效：{value}（可选：非常满意、满意、基本满意、不满意、非常不满意，或 5–1）",
        "Invalid rating {value} (very-satisfied, satisfied, fairly-satisfied, dissatisfied, "
        "very-dissatisfied, or 5-1)",
    ),
    "bad_rating_channel": (
        "评价方式无效：{value}（{choices}）",
        "Invalid rating channel {value} ({choices})",
    ),
    "rating_before_closing": (
        "案件 {case} 尚未办结，办结后才能评价",
        "Case {case} is not closed yet: ratings come at closing",
    ),
    "already_rated": ("案件 {case} 已有评价，未重复记录", "Case {case} is already rated"),
    "follow_up_before_rating": (
        "案件 {case} 还没有评价，不能记录回访",
        "Case {case} has no rating yet: nothing to follow up",
    ),
    "already_followed_up": ("案件 {case} 已回访过", "Case {case} was already followed up"),
    "extension_too_late": (
        "案件 {case} 已于 {due} 超过办理时限，延期须在时限届满前批准",
        "Case {case} ran past its limit on {due}: an extension must be approved before",
    ),
    "extension_days": (
        "延期天数应为 1–{most} 个工作日",
        "An extension is 1-{most} working days",
    ),
    "managers_only_extension": (
        "延期办结须由主管批准：请用 --approved-by 写明批准的主管",
        "An extension needs a manager's approval: name them with --approved-by",
    ),
    "extended": (
        "案件 {case} 延长 {days} 个工作日，预计 {due} 前办结；延期告知书已发给申请人。",
        "Case {case} extended by {days} working days, now due {due}; the applicant is told.",
    ),
    "second_notice_done": (
        "已记录二次告知（本案第 {count} 次）：{item}；补充告知书已发给申请人。",
        "Second notice recorded (number {count} on this case): {item}; the applicant is told.",
    ),
    "rated": ("已记录评价：{words}", "Rating recorded: {words}"),
    "rated_follow_up": (
        "已记录评价：{words}。须于 {due} 前整改并回访（casework follow-up）。",
        "Rating recorded: {words}. Rectify and call back by {due} (casework follow-up).",
    ),
    "followed_up": ("已记录回访：{case}", "Follow-up call recorded: {case}"),
    "receipt_written": ("首问回执已生成：{path}", "First-contact receipt written: {path}"),
    "show_clock": (
        "限时办结：{state}  时限 {limit} 个工作日，已用 {used}，暂停 {paused}，{left}  应办结：{due}",
        "Time limit: {state}  {limit} working days, used {used}, paused {paused}, {left}  "
        "due: {due}",
    ),
    "show_clock_closed": (
        "限时办结：{state}  用时 {used} 个工作日（时限 {limit}，暂停 {paused}）",
        "Time limit: {state}  {used} working days used (limit {limit}, paused {paused})",
    ),
    "clock_left": ("剩余 {days}", "{days} left"),
    "clock_over": ("超出 {days}", "{days} over"),
    "clock_extended": ("  （含延期 {days} 天）", "  (includes a {days}-day extension)"),
    "show_second_notice": ("二次告知：{notice}", "Second notice: {notice}"),
    "show_rating": ("群众评价：{words}  {comment}", "Rating: {words}  {comment}"),
    "rating_follow_up_due": ("  待整改回访，期限 {due}", "  follow-up due by {due}"),
    "rating_followed_up": ("  已回访：{note}", "  followed up: {note}"),
    # casework show
    "show_case": (
        "案件 {case}  {title}  状态：{status}{urgent}",
        "Case {case}  {title}  status: {status}{urgent}",
    ),
    "show_urgent": ("  紧急", "  URGENT"),
    "show_applicant": (
        "申请人：{name}  {phone}   跑动次数：{trips}",
        "Applicant: {name}  {phone}   trips: {trips}",
    ),
    "show_dates": (
        "受理：{opened}  承诺办结：{promised}",
        "Opened: {opened}  promised by: {promised}",
    ),
    "show_deadline": ("  法定时限：{deadline}", "  statutory deadline: {deadline}"),
    "show_closed": ("  办结：{closed}", "  closed: {closed}"),
    "show_escalated": ("已上报主管：{reason}", "Escalated to a manager: {reason}"),
    "show_outside_remit": ("业务范围外协助办理", "Help outside the office's remit"),
    "show_services": ("服务顺序：{services}", "Services in order: {services}"),
    "show_materials": ("材料：", "Materials:"),
    "show_material": (
        "  - {name}：{status}  当前单位：{agency}  已联系：{tried}",
        "  - {name}: {status}  agency: {agency}  tried: {tried}",
    ),
    "show_contacts": ("往来记录：", "Contacts:"),
    "show_events": ("审计记录：", "Audit trail:"),
    "show_emails": ("邮件：", "Emails:"),
    "show_documents": ("文书：", "Letters:"),
    "show_revealed": (
        "申请人（未脱敏，已记入审计）：{details}",
        "Applicant (unmasked, audited): {details}",
    ),
    "show_tracking": ("  邮寄单号 {tracking}", "  tracking number {tracking}"),
    "show_to_post": ("  待寄出", "  to post"),
    "show_run": ("Prefect：{url}", "Prefect: {url}"),
    "cases_row_urgent": ("紧急", "urgent"),
    "cases_row_overdue": ("逾期", "overdue"),
    "cases_row": (
        "{case}  {title}  {status}  {name}  承诺 {promised}  {flags}",
        "{case}  {title}  {status}  {name}  promised {promised}  {flags}",
    ),
    # casework playbooks, check-playbooks, agency list
    "playbook_row": (
        "{slug:32} {title}（{days} 个工作日）",
        "{slug:32} {title} ({days} working days)",
    ),
    "playbook_fields": ("{indent:32} 字段：{fields}", "{indent:32} fields: {fields}"),
    "playbook_checked": ("✓ {slug}：{count} 个模板", "✓ {slug}: {count} templates"),
    "agency_row": ("{slug:32} {name}  {email}", "{slug:32} {name}  {email}"),
    "agency_by_post": ("（邮寄）", "(by post)"),
    # casework status
    "status_running": ("运行中", "running"),
    "status_stopped": ("未运行", "stopped"),
    "status_api": ("Prefect API    {state}  {url}", "Prefect API    {state}  {url}"),
    "status_api_ok": ("正常", "healthy"),
    "status_api_down": ("无响应", "not answering"),
    "status_sweep": (
        "巡检（每15分钟）：上次 {last}，下次 {next}",
        "Sweep (every 15 minutes): last {last}, next {next}",
    ),
    "status_never": ("尚未运行", "not yet"),
    "sweep_not_scheduled": (
        "⚠ 巡检没有排定下一次运行：Prefect 的调度服务可能出错（见服务日志）",
        "⚠ The sweep has no next run planned: Prefect's scheduler may be failing (see its log)",
    ),
    "sweep_late": (
        "⚠ 巡检已到时间却没有运行：工作进程可能停了（casework up 可重启）",
        "⚠ The sweep is due but has not run: the worker may be down (casework up restarts it)",
    ),
    "sweep_overdue": (
        "⚠ 巡检已超过30分钟没有运行",
        "⚠ The sweep has not run for more than 30 minutes",
    ),
    "service_errors": (
        "⚠ Prefect 服务日志中有 {count} 条错误，最近一条：{last}（{log}）",
        "⚠ {count} error(s) in the Prefect server log, the latest: {last} ({log})",
    ),
    "prefect_database_locked": (
        "Prefect 的 SQLite 数据库近来忙了 {count} 次（每次等了5秒，放弃这一次写入）；"
        "经常出现时请改用 PostgreSQL（见 README）",
        "Prefect's SQLite database was busy {count} time(s) lately (each write gave up after"
        " 5 s); if it happens often, move to PostgreSQL (see the README)",
    ),
    "status_home": ("数据目录        {home}", "Data folder     {home}"),
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
    "office_added": ("已添加街道：{name}（代码 {office}）", "Office added: {name} (code {office})"),
    "user_added": (
        "已添加账号 {username}：{name}，{office}",
        "Account {username} added: {name}, {office}",
    ),
    "workbench_at": ("工作台：{url}", "Workbench: {url}"),
    "agency_added": (
        "已添加单位：{name}，代码 {agency}（记录答复时用 --agency {agency}）",
        "Agency added: {name}, code {agency} (use --agency {agency} for its answers)",
    ),
    "opened": (
        "已受理案件 {case}（{title}），承诺 {promised} 前办结。",
        "Opened case {case} ({title}); promised by {promised}.",
    ),
    "flow_started": ("案件流程已启动：{url}", "Case flow started: {url}"),
    "flow_not_started": (
        "案件已保存，但流程未启动（{reason}）；流程会自动补上。",
        "Case saved but its flow did not start ({reason}); it will be started by itself.",
    ),
    "reply_recorded": (
        "已记录 {agency} 的答复：{outcome}。",
        "Recorded {agency}'s answer: {outcome}.",
    ),
    "visit_recorded": (
        "已记录申请人到窗口（第 {trips} 次）。",
        "Recorded the applicant's visit (trip {trips}).",
    ),
    "not_suspended": ("流程此刻未在等待", "the run is not waiting right now"),
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
    "reconcile_done": (
        "对账完成：重新启动 {redriven} 个案件的流程（{cases}），上报 {escalated} 个反复中断的案件。",
        "Reconciled: re-drove {redriven} case run(s) ({cases}), escalated {escalated} that keep crashing.",
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
    return fill(en if lang == "en" else zh, **params)


def fill(template: str, **params: object) -> str:
    """A message with its params filled in, control characters taken out of them; as written
    when it names a param it was not given (a message never raises)."""
    safe = {k: v if k == "detail" else _printable(v) for k, v in params.items()}
    try:
        return template.format(**safe)
    except (KeyError, IndexError):
        return template


# ---------------------------------------------------------------- labels for codes
# Every code a person may see (statuses, outcomes, channels, audit events…) has a Chinese and an
# English label here; front ends, artifacts, boards and reports print these, never the code.

LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "rating": {
        "5": ("非常满意", "very satisfied"),
        "4": ("满意", "satisfied"),
        "3": ("基本满意", "fairly satisfied"),
        "2": ("不满意", "dissatisfied"),
        "1": ("非常不满意", "very dissatisfied"),
    },
    "clock_state": {
        "running": ("计时中", "running"),
        "paused": ("暂停计时（等待补正）", "paused (waiting for the applicant)"),
        "due-soon": ("即将到期", "due soon"),
        "overdue": ("已超时限", "over the limit"),
        "met": ("按时办结", "closed in time"),
        "missed": ("超时办结", "closed late"),
    },
    "case_status": {
        "open": ("待办", "open"),
        "waiting_agency": ("等单位答复", "waiting for an agency"),
        "waiting_applicant": ("等申请人补充", "waiting for the applicant"),
        "escalated": ("已上报主管", "escalated"),
        "closed": ("已办结", "closed"),
    },
    "material_status": {
        "pending": ("待发函", "to request"),
        "requested": ("已发函，等待答复", "requested, awaiting answer"),
        "waiting_applicant": ("等申请人提供", "waiting for the applicant"),
        "collected": ("已取得", "collected"),
        "unobtainable": ("无法取得（已上报）", "unobtainable (escalated)"),
    },
    "channel": {
        "email": ("邮件", "email"),
        "phone": ("电话", "phone"),
        "letter": ("信函", "letter"),
        "post": ("邮寄", "post"),
        "visit": ("上门", "in person"),
        "window": ("窗口", "at the window"),
        "home-visit": ("入户", "home visit"),
        "web": ("网上答复", "reply page"),
    },
    "direction": {
        "outbound": ("发出", "out"),
        "inbound": ("收到", "in"),
    },
    "contact_kind": {
        "notice": ("一次性告知", "one-time notice"),
        "request": ("发函", "request"),
        "reminder": ("催办", "reminder"),
        "reply": ("答复", "answer"),
        "escalation": ("上报主管", "escalation"),
        "visit": ("到窗口", "visit"),
        "closing": ("办结通知", "closing"),
        "appointment": ("预约", "appointment"),
        "appointment-confirmation": ("预约确认", "appointment confirmation"),
        "staff-reminder": ("提醒陪同人员", "staff reminder"),
        "receipt": ("收到材料", "materials received"),
        "inbound-email": ("收到来信（待分类）", "email received (to classify)"),
        "amended-notice": ("补充告知（二次告知）", "amended notice (second notice)"),
        "extension-notice": ("延期告知", "extension notice"),
    },
    "outcome": {
        # an agency's answer
        "received": ("已取得材料", "material received"),
        "forwarded": ("转其他单位", "forwarded"),
        "no-record": ("无记录", "no record"),
        "needs-info": ("需申请人补充", "needs information"),
        "refused": ("单位拒绝办理", "refused"),
        # why the applicant came
        "intake": ("受理", "intake"),
        "material-missing": ("补交材料", "bringing a material"),
        "signature": ("签字", "signature"),
        "appointment": ("预约办理", "appointment"),
        "collect": ("领取", "collecting"),
        "other": ("其他", "other"),
        # why a case was escalated, and how it ended otherwise
        "no-answer": ("单位多次催办仍未答复", "no answer after reminders"),
        "deadline-passed": ("已超过法定时限，无法继续补办", "statutory deadline passed"),
        "no-body-left": ("所有可联系的单位均无记录", "no agency left to ask"),
        "run-keeps-crashing": ("案件流程反复中断，需人工检查", "the case's run keeps crashing"),
        "withdrawn": ("终止办理", "withdrawn"),
    },
    "reply_channel": {
        "phone": ("电话", "phone"),
        "email": ("邮件", "email"),
        "post": ("信函", "post"),
        "visit": ("来访", "visit"),
        "web": ("网上答复", "reply page"),
    },
    "service": {
        "prefect-server": ("Prefect 服务器", "Prefect server"),
        "mail-server": ("邮件服务器", "mail server"),
        "run-starter": ("流程启动器", "run starter"),
        "worker": ("流程执行进程", "worker"),
        "workbench": ("工作台", "workbench"),
    },
    "role": {
        "clerk": ("窗口工作人员", "clerk"),
        "manager": ("主管", "manager"),
        "district": ("区级", "district"),
    },
    "event": {
        "case-opened": ("受理", "case opened"),
        "status-changed": ("状态变更", "status changed"),
        "applicant-notified": ("已一次性告知", "applicant notified"),
        "request-sent": ("已发函", "request sent"),
        "reminder-sent": ("已催办", "reminder sent"),
        "escalated": ("上报主管", "escalated"),
        "reply-recorded": ("记录答复", "answer recorded"),
        "applicant-visited": ("申请人到窗口", "applicant visited"),
        "materials-received": ("收到材料", "materials received"),
        "appointment-booked": ("已预约", "appointment booked"),
        "appointment-confirmation": ("已发预约确认", "appointment confirmed"),
        "staff-reminder": ("已提醒陪同人员", "staff reminded"),
        "flow-run-linked": ("关联流程", "flow run linked"),
        "marked-urgent": ("标为紧急", "marked urgent"),
        "urgency-cleared": ("取消紧急", "urgency cleared"),
        "service-completed": ("一项服务办结", "service completed"),
        "case-closed": ("办结", "case closed"),
        "case-withdrawn": ("终止办理", "case withdrawn"),
        "email-received": ("收到来信", "email received"),
        "letter-posted": ("信函已寄出", "letter posted"),
        "personal-data-shown": ("查看未脱敏信息", "personal data shown"),
        "personal-data-purged": ("个人信息已清除", "personal data purged"),
        "form-answer-refused": ("界面答复未记录", "form answer not recorded"),
        "run-redriven": ("流程已重新启动", "flow run re-driven"),
        "note-added": ("备注", "note"),
        "clock-paused": (
            "办理时限暂停（等待补正）",
            "time limit paused (waiting for the applicant)",
        ),
        "clock-resumed": ("办理时限恢复计算", "time limit running again"),
        "time-limit-extended": ("延期办结", "time limit extended"),
        "second-notice": ("二次告知", "second notice"),
        "rated": ("群众评价", "rating"),
        "follow-up-called": ("回访", "follow-up call"),
        "rectification-overdue": ("差评整改逾期", "rectification overdue"),
    },
    "outbox_status": {
        "pending": ("待发送", "pending"),
        "sending": ("发送中", "sending"),
        "sent": ("已发送", "sent"),
        "failed": ("发送失败", "failed"),
    },
    "actor": {
        "staff": ("工作人员", "staff"),
        "system": ("系统", "system"),
        "prefect-ui": ("主管（Prefect 界面）", "manager (Prefect UI)"),
        "agency-link": ("单位网上答复", "agency (reply page)"),
    },
    "party": {
        "applicant": ("申请人", "applicant"),
        "manager": ("主管", "manager"),
    },
}


def label(group: str, code: object, lang: str = "zh") -> str:
    """The label of `code` in `group` ("case_status", "outcome", "event"…); an unknown code is
    shown as it is (a test keeps every known code labelled)."""
    text = str(code)
    pair = LABELS[group].get(text)
    if pair is None:
        return text
    return pair[1] if lang == "en" else pair[0]
