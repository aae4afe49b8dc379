"""The workbench's words in English, keyed by the Chinese the pages are written in.

Pages are written in Chinese and wrap each phrase in `_("…")`; with English chosen (the link in
the header, kept in a cookie) `_` looks the phrase up here. A phrase missing here stays Chinese,
and a test reads every template and web/app.py so none goes missing. Playbook data (case types,
materials, agencies) is the office's own and stays as the office wrote it."""

from __future__ import annotations

from collections.abc import Callable

LANG_COOKIE = "casework_lang"
LANGUAGES = ("zh", "en")

ENGLISH: dict[str, str] = {
    # frame
    "主菜单": "Main menu",
    "我的案件": "My cases",
    "受理": "Intake",
    "看板": "Board",
    "退出": "Sign out",
    "（{x}）": " ({x})",
    # sign in
    "登录": "Sign in",
    "工作人员登录": "Staff sign-in",
    "用户名": "Username",
    "密码": "Password",
    # my cases
    "我的案件（{n} 件）": "My cases ({n})",
    "筛选": "Filter",
    "事项": "Matter",
    "状态": "Status",
    "首问责任人": "First-contact officer",
    "全部": "All",
    "逾期的排在最前；点击案件编号办理。": "Overdue cases come first; click a case number to work on it.",
    "案件编号": "Case number",
    "申请人": "Applicant",
    "等待": "Waiting for",
    "受理日期": "Opened",
    "承诺办结": "Promised by",
    "法定期限": "Statutory deadline",
    "逾期": "overdue",
    "加急": "urgent",
    "{agency}，{since}起，已{days}个工作日": "{agency}, since {since}, {days} working days",
    "没有案件。": "No cases.",
    # case page
    "案件已受理。": "The case is open.",
    "打印一次性告知书": "Print the one-time notification",
    "已记录：{what}。案件流程随后自动继续。": "Recorded: {what}. The case's flow carries on by itself.",
    "案件": "Case",
    "电话": "Phone",
    "跑动次数": "Trips",
    "一次性告知书（PDF）": "One-time notification (PDF)",
    "群众查询页": "Citizen's status page",
    "材料": "Materials",
    "单位": "Agency",
    "记录单位答复": "Record an agency's answer",
    "答复单位（正在等待）": "Answering agency (awaited)",
    "答复结果": "Answer",
    "转往单位（答复为“转其他单位”时选择）": "Forwarded to (when the answer is “forwarded”)",
    "答复方式": "Answered by",
    "备注": "Note",
    "记录答复": "Record the answer",
    "目前没有在等待的单位答复。": "No agency's answer is awaited now.",
    "收到材料／来访": "Materials received / visit",
    "收到的材料": "Materials received",
    "方式": "How",
    "来访原因（到窗口时）": "Reason for the visit (at the window)",
    "记录": "Record",
    "信函已寄出": "Letter posted",
    "挂号信单号": "Registered-mail number",
    "记录寄出": "Record the posting",
    "内容（如电话沟通情况）": "Text (e.g. what a phone call said)",
    "记录备注": "Record the note",
    "预约": "Appointment",
    "时间": "Time",
    "陪同工作人员（可不填）": "Staff escort (optional)",
    "上门接送": "Pick up from home",
    "查看完整个人信息": "Show full personal data",
    "查看理由（记入审计）": "Reason (recorded in the audit trail)",
    "查看": "Show",
    "终止办理（主管）": "Withdraw the case (manager)",
    "终止原因": "Reason for withdrawal",
    "终止办理": "Withdraw",
    "联系记录": "Contacts",
    "结果": "Outcome",
    "查看信函": "View letter",
    "办理记录": "Audit trail",
    "内容": "Details",
    "经办": "By",
    # personal data
    "{case} 个人信息": "{case} personal data",
    "{case}：申请人完整信息": "{case}: the applicant's full personal data",
    "本次查看已记入审计记录。": "This view is recorded in the audit trail.",
    "姓名": "Name",
    "公民身份号码": "Resident ID",
    "电子邮箱": "Email",
    "住址": "Address",
    "返回案件": "Back to the case",
    "返回": "Back",
    # intake
    "受理 · {title}": "Intake · {title}",
    "受理：{title}": "Intake: {title}",
    "受理新案件：选择事项": "New case: choose the matter",
    "公民身份号码（18位）": "Resident ID (18 characters)",
    "联系电话": "Phone",
    "电子邮箱（可不填）": "Email (optional)",
    "住址（可不填）": "Address (optional)",
    "事项信息": "About the matter",
    "今天已带来的材料（勾选）": "Materials brought today (tick)",
    "受理并打印一次性告知书": "Open the case and print the one-time notification",
    "身份证号码格式不正确：应为18位，最后一位可为X": (
        "Resident ID must be 18 characters (the last may be X)"
    ),
    "身份证号码校验位不正确，请核对": "Resident ID check digit is wrong: please check it",
    "电话号码格式不正确": "Phone number is not valid",
    # board
    "每日看板 · {day}": "Daily board · {day}",
    "已上报主管（{n}）": "Escalated to a manager ({n})",
    "原因": "Reason",
    "上报日期": "Escalated on",
    "流程": "Flow run",
    "没有。": "None.",
    "逾期未答复（{n}）": "Overdue answers ({n})",
    "发函日期": "Requested on",
    "催办次数": "Reminders",
    "应答复日期": "Answer due",
    "30天内到期": "Deadlines in the next 30 days",
    "{title}：{day}（还剩{n}天）": "{title}: {day} ({n} days left)",
    "待寄出的信函": "Letters to post",
    "致{agency}（{day}）": "to {agency} ({day})",
    "各单位答复情况": "Answers by agency",
    "发函": "Requests",
    "已答复": "Answered",
    "答复天数（中位数）": "Days to answer (median)",
    # agency reply page
    "答复 {case}": "Answer {case}",
    "{agency}：请答复我中心的协查函": "{agency}: please answer our request",
    "案件编号 {case}，{day} 来函，查询材料：": "Case {case}, our letter of {day}, asking for: ",
    "已找到／已寄出": "Found / sent",
    "我处无记录": "We hold no record",
    "已转至其他单位": "Forwarded to another body",
    "需要申请人补充材料": "The applicant must supply something",
    "转至（可选）": "Forwarded to (optional)",
    "（其他单位，请在下方填写）": "(another body: write its name below)",
    "转至的单位名称": "Name of the body it was forwarded to",
    "需要申请人补充什么": "What the applicant must supply",
    "提交答复": "Send the answer",
    "本链接只能使用一次。": "This link can be used once.",
    "单位答复": "Agency's answer",
    "答复码（见来函）": "Reply code (printed on our letter)",
    "例如 7KQ2M-XD94R": "e.g. 7KQ2M-XD94R",
    "下一步": "Next",
    "已收到答复": "Answer received",
    "已收到您的答复，谢谢！": "Thank you: your answer is recorded.",
    "（案件 {case}）": " (case {case})",
    # citizen's status page
    "办理进度": "Case progress",
    "{title} · 办理进度": "{title} · progress",
    "已办结": "Closed",
    "已收齐的材料": "Materials collected",
    "暂无": "None yet",
    "正在办理的材料": "Materials being obtained",
    "材料已全部收齐，案件办结": "Every material is collected; the case is closed",
    "材料已全部收齐，正在办结": "Every material is collected; the case is being closed",
    "工作人员正在等待有关单位答复，无需您跑动": (
        "Staff are waiting for an agency's answer; you need not come in"
    ),
    "工作人员正在向有关单位发函，无需您跑动": (
        "Staff are writing to the agencies concerned; you need not come in"
    ),
    "有关单位尚未答复，工作人员正在催办，无需您跑动": (
        "An agency has not answered yet and staff are chasing it; you need not come in"
    ),
    "有关单位尚未答复，已请主管协调，无需您跑动": (
        "An agency has not answered yet and a manager is stepping in; you need not come in"
    ),
    "案件已受理，正在准备一次性告知书": (
        "The case is open and the one-time notification is being prepared"
    ),
    "需要您补充材料，工作人员会电话联系您": (
        "Something more is needed from you; staff will phone you"
    ),
    "工作人员正在办理": "Staff are working on your case",
    # the office's rules
    "限时办结": "Time limit",
    "时限{limit}个工作日，已用{used}，暂停{paused}": "{limit} working days, {used} used, {paused} paused",
    "，剩余{n}": ", {n} left",
    "，超出{n}": ", {n} over",
    "（含延期{n}天）": " (includes a {n}-day extension)",
    "二次告知": "Second notice",
    "群众评价": "Citizen's rating",
    "须于{day}前整改回访": "follow-up call due by {day}",
    "已回访": "Followed up",
    "首问回执（PDF）": "First-contact receipt (PDF)",
    "打印首问回执": "Print the first-contact receipt",
    "向申请人要一次性告知书没有列出的材料时记录，计入二次告知率。": (
        "Record it when the applicant is asked for something the one-time notification did not "
        "list; it counts in the second-notice rate."
    ),
    "需要补充的材料": "What she must supply",
    "告知书未列明的原因": "Why the notification did not list it",
    "记录并发出补充告知书": "Record it and send the amended notice",
    "延期办结（主管）": "Extend the time limit (manager)",
    "延长工作日数": "Working days to add",
    "延期理由（写入延期告知书）": "Reason (printed in the letter to the citizen)",
    "批准延期": "Approve the extension",
    "群众评价（好差评）": "Citizen's rating",
    "评价": "Rating",
    "评价内容（可不填）": "Comment (optional)",
    "评价方式": "Given",
    "窗口": "at the window",
    "记录评价": "Record the rating",
    "整改回访": "Follow-up call",
    "回访情况及整改结果": "What the call said and what was put right",
    "记录回访": "Record the call",
    "限时办结即将到期或已超时（{n}）": "Time limits running out or past ({n})",
    "应办结日": "Due",
    "另有{n}件等待申请人补正，暂停计时。本月二次告知{m}次。": (
        "{n} more paused while waiting for the applicant. Second notices this month: {m}."
    ),
    "差评待整改回访（{n}）": "Bad ratings awaiting a follow-up call ({n})",
    "本月至今": "This month so far",
    "受理／办结": "Opened / closed",
    "按时办结率": "Closed within the limit",
    "跑动0–2次占比": "Within 0-2 trips",
    "响应率": "Response rate",
    "解决率": "Resolution rate",
    "满意率": "Satisfaction rate",
    "回访率": "Follow-up rate",
    "二次告知率": "Second-notice rate",
    "办结用时中位数（工作日）": "Median working days to close",
    "感谢您的评价！": "Thank you for your rating!",
    "请您评价本次服务": "Please rate our service",
    "意见建议（可不填）": "Comments (optional)",
    "提交评价": "Send the rating",
    "已延期{days}个工作日，应办结日改为{due}": "Extended by {days} working days, now due {due}",
    "已二次告知：{item}": "Second notice sent: {item}",
    "已记录评价：{words}": "Rating recorded: {words}",
    "已记录回访": "Follow-up call recorded",
    # messages web/app.py composes
    "请求无效": "Request refused",
    "页面已过期或请求来源不明，未做任何记录。请刷新页面后重试。": (
        "The page has expired or the request came from elsewhere; nothing was recorded. "
        "Reload the page and try again."
    ),
    "找不到案件": "No such case",
    "未能记录": "Not recorded",
    "备注已记录": "Note recorded",
    "已预约：{agency} {at}": "Appointment booked: {agency} {at}",
    "找不到信函": "No such letter",
    "信函已寄出：{tracking}": "Letter posted: {tracking}",
    "案件已终止办理": "The case is withdrawn",
    "没有这类事项": "No such case type",
    "无法答复": "Cannot answer",
    "查询链接无效": "Status link not valid",
}


def translator(lang: str) -> Callable[..., str]:
    """`_` for a page: the phrase in the chosen language, `{named}` fields filled in."""

    def _(phrase: str, **fields: object) -> str:
        text = ENGLISH.get(phrase, phrase) if lang == "en" else phrase
        return text.format(**fields) if fields else text

    return _


# The CLI's catalogue tells a mistake the way a terminal user fixes it (`--forward-to`,
# `casework up`); on a page the same mistake is fixed with a field or a phone call.
PAGE_MESSAGES: dict[str, tuple[str, str]] = {
    "forward_to_missing": (
        "答复为“转其他单位”时，请选择转往的单位",
        "For a “forwarded” answer, choose the body it was forwarded to",
    ),
    "missing_field": ("请填写：{label}", "Please fill in: {label}"),
    "which_material": ("请选择是哪份材料：{materials}", "Choose which material: {materials}"),
    "which_letter": (
        "案件 {case} 有多封待寄出的信函（{letters}），请在“待寄出的信函”中逐封登记",
        "Case {case} has several letters to post ({letters}): record each from the board",
    ),
    "bad_via": ("收到方式无效：{value}", "Not a way of receiving: {value}"),
    "bad_reply_via": ("答复方式无效：{value}", "Not a way of answering: {value}"),
    "appointment_format": ("预约时间无效：{value}", "Not a valid time: {value}"),
    "reason_needed": ("查看完整个人信息须写明理由", "Showing full personal data needs a reason"),
    "field_format": (
        "填写的内容格式不正确：{value}",
        "This entry is not in the right form: {value}",
    ),
    "stack_down": (
        "后台服务暂未运行，请联系系统管理员",
        "The background services are not running; please call the system administrator",
    ),
    "office_unknown": ("没有代码为 {office} 的街道", "No office with code {office}"),
    "agency_exists": ("单位已存在：{agency}", "Agency already exists: {agency}"),
}
