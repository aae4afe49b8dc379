"""The seed stories as scripts of what window staff type: run by `casework demo` and the tests.

Each story drives the real CLI commands against the running local stack and waits for the
case's flow run to settle after every step that wakes it. Personal data here is invented.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import typer

from casework.clock import now, office_date
from casework.playbook import get_playbook
from casework.validation import id_check_digit
from casework.workdays import add_working_days
from cli import agencies as cli_agencies
from cli import answers as cli_answers
from cli import intake as cli_intake
from cli import office as cli_office
from cli import office_rules as cli_rules
from cli import route as cli_route
from usecases import runs


def synthetic_id_number(born: date, serial: str = "002") -> str:
    """A well-formed but invented resident ID (Xicheng district prefix 110102)."""
    first17 = f"110102{born:%Y%m%d}{serial}"
    return first17 + id_check_digit(first17)


@dataclass
class Driver:
    """Types the staff's commands and waits for the case flow to catch up."""

    echo: bool = True
    cases: dict[str, str] = field(default_factory=dict)
    personal: list[str] = field(default_factory=list)  # what was typed that must stay private

    def say(self, text: str) -> None:
        if self.echo:
            typer.secho(f"\n▶ {text}", bold=True)

    def _settle(self, case_number: str, started: datetime) -> str:
        state = runs.wait_until_settled(case_number, after=started)
        if self.echo:
            typer.echo(f"  [case-{case_number}: {state}]")
        return state

    def _step(self, case_number: str, action: Callable[[], object]) -> str:
        started = now()
        action()
        return self._settle(case_number, started)

    def open(
        self,
        slug: str,
        *,
        name: str,
        born: date,
        phone: str,
        fields: dict[str, str],
        email: str | None = None,
        brought: tuple[str, ...] = (),
    ) -> str:
        private_fields = {f.key for f in get_playbook(slug).fields if f.personal}
        self.personal += [name, synthetic_id_number(born), phone]
        self.personal += [value for key, value in fields.items() if key in private_fields]
        self.personal += [email] if email else []
        started = now()
        case_number = cli_intake.open_(
            slug=slug,
            name=name,
            id_number=synthetic_id_number(born),
            phone=phone,
            email=email,
            field=[f"{key}={value}" for key, value in fields.items()],
            brought=list(brought),
            # The scripted clerk has read intake's warnings (a limit passed, a story run again
            # on the same home): the story goes on as the real case did.
            confirm=True,
        )
        self.cases[slug] = case_number
        self._settle(case_number, started)
        return case_number

    def reply(self, case_number: str, agency: str, outcome: str, **options: str | None) -> str:
        return self._step(
            case_number,
            lambda: cli_answers.reply(
                case_number=case_number,
                agency=agency,
                outcome=outcome,
                material=options.get("material"),
                forward_to=options.get("forward_to"),
                note=options.get("note") or "",
                via=options.get("via") or "phone",
                as_of=options.get("as_of"),
            ),
        )

    def rate(self, case_number: str, level: str, comment: str) -> None:
        cli_rules.rate(case_number=case_number, level=level, comment=comment, via="phone")

    def visit(self, case_number: str, reason: str, brought: list[str]) -> str:
        return self._step(
            case_number,
            lambda: cli_answers.visit(
                case_number=case_number, reason=reason, brought=brought, note=None
            ),
        )

    def receive(self, case_number: str, brought: list[str], via: str, note: str) -> str:
        return self._step(
            case_number,
            lambda: cli_answers.receive(
                case_number=case_number, brought=brought, via=via, note=note
            ),
        )

    def appoint(
        self, case_number: str, agency: str, at: str, material: str, escort: str, pickup: bool
    ) -> str:
        return self._step(
            case_number,
            lambda: cli_answers.appoint(
                case_number=case_number,
                agency=agency,
                at=at,
                material=material,
                escort=escort,
                pickup=pickup,
            ),
        )

    def add_agency(self, case_number: str, name: str, phone: str, address: str) -> str:
        """Add the agency found on the way, for this case only; its code is generated."""
        self.personal.append(name)  # a name added on the way may be a private person's
        return cli_agencies.agency_add(
            name=name,
            phone=phone,
            address=address,
            email=None,
            case=case_number,
            department=None,
            hours=None,
            notes=None,
            distinct=False,
        )

    def assign(self, case_number: str, role: str, agency: str) -> None:
        """Name the agency filling a role of the case type for this case; its letter goes."""
        self._step(
            case_number,
            lambda: cli_route.assign(case_number=case_number, role=role, agency=agency),
        )

    def posted(self, case_number: str, tracking: str) -> None:
        """Staff posted the printed letter waiting on the case; the run re-plans from that day."""
        self._step(
            case_number,
            lambda: cli_answers.posted(
                case_number=case_number, tracking=tracking, letter=None, posted_on=None
            ),
        )

    def chase(self, as_of: date) -> None:
        cli_office.chase(as_of=as_of.isoformat(), wait=True)


def _years_ago(today: date, years: int, plus_days: int = 0) -> date:
    return date(today.year - years, today.month, min(today.day, 28)) + timedelta(days=plus_days)


def shen(driver: Driver, today: date) -> str:
    """Seed 004: the lost cremation certificate, ten years on (forwarding, a reminder)."""
    driver.say("沈女士：老伴的火化证明丢了十年，火葬场前台说不能补办（补办时限将到）")
    number = driver.open(
        "recover-cremation-certificate",
        name="沈桂兰",
        born=date(1950, 3, 8),
        phone="13800001234",
        email="shen.family@example.com",
        fields={
            "deceased_name": "王建国",
            # Cremated ten years ago less 20 days: the reissue limit is close, as in the story.
            "cremation_date": _years_ago(today, 10, plus_days=20).isoformat(),
            "crematorium": "北京市某区殡仪馆",
        },
    )
    driver.say("殡仪馆前台答复：这里查不到，转档案室")
    driver.reply(
        number,
        "crematorium-front-desk",
        "forwarded",
        forward_to="crematorium-archive-room",
        note="前台无十年前的记录，请联系档案室",
    )
    due = add_working_days(today, 1)
    driver.say(f"档案室没有回音；案件紧急，{due} 巡检时自动催办")
    driver.chase(due)
    driver.say("档案室找到火化记录，出具火化证明")
    driver.reply(
        number,
        "crematorium-archive-room",
        "received",
        note="已找到火化记录，补办件已寄出",
        as_of=due.isoformat(),
    )
    return number


def _tracking_number(number: str, letter: int) -> str:
    """A made-up registered-mail number (EMS style) that is the same on every run of the story."""
    digits = "".join(ch for ch in number if ch.isdigit())[-6:]
    return f"XA{digits}{letter:03d}CN"


def tianqiao_father(driver: Driver, today: date) -> str:
    """Seed 004: where is the dead son's archive? Talent centre, then the employer, by post."""
    driver.say("天桥的老人：为去世的儿子办丧葬费，缺存档证明，不知档案在哪")
    number = driver.open(
        "archive-custody-proof",
        name="刘福海",
        born=date(1951, 6, 2),
        phone="13900002345",
        fields={"deceased_name": "刘建军", "death_date": (today - timedelta(days=20)).isoformat()},
    )
    driver.say("区公服中心答复：档案不在这里；经114查到生前单位，临时添加该单位（无邮箱，邮寄）")
    employer = driver.add_agency(
        number, "某物流有限公司人事部", "010-60006001", "北京市西城区某路1号"
    )
    driver.reply(
        number,
        "district-talent-service-centre",
        "forwarded",
        forward_to=employer,
        note="档案不在本中心",
    )
    driver.say("打印协查函，挂号寄给单位，登记邮件单号")
    driver.posted(number, _tracking_number(number, 1))
    driver.say("单位查到档案，但开证明需要家属材料：工作人员上门收取，再邮寄给单位")
    driver.reply(
        number,
        employer,
        "needs-info",
        note="需死亡证明、户口簿、申请人身份证复印件",
        via="post",
    )
    driver.receive(
        number,
        ["archive-custody-proof"],
        "home-visit",
        note="上门收取死亡证明、户口簿、身份证复印件",
    )
    driver.posted(number, _tracking_number(number, 2))
    driver.say("单位寄回存档证明，材料一次性转交老人")
    driver.reply(number, employer, "received", note="存档证明已寄到", via="post")
    return number


def zhao_brother(driver: Driver, today: date) -> str:
    """Seed 004: sick retirement after a stroke; the assessment is an escorted appointment."""
    driver.say("赵女士：为偏瘫的小弟办病退")
    number = driver.open(
        "sick-retirement",
        name="赵秀英",
        born=date(1957, 9, 12),
        phone="13700003456",
        email="zhao.family@example.com",
        fields={"worker_name": "赵小军", "employer": "某机械厂", "hospital_name": "某区医院"},
    )
    driver.say("赵女士带来小弟的身份证、户口簿和照片（第2次到窗口）")
    driver.visit(number, "material-missing", ["worker-identity-documents"])
    driver.say("医院病案室和社保经办机构先后答复")
    driver.reply(number, "hospital-records-office", "received", note="病历已盖章寄出")
    driver.reply(number, "social-insurance-office", "received", note="申请表、缴费证明已出具")
    day = add_working_days(today, 2)
    driver.say(f"预约劳动能力鉴定：{day} 09:30，张军陪同")
    driver.appoint(
        number,
        "labour-capacity-assessment-centre",
        f"{day} 09:30",
        "assessment-conclusion",
        "张军",
        pickup=False,
    )
    driver.say("鉴定前一个工作日：提醒陪同人员")
    driver.chase(add_working_days(today, 1))
    driver.say("鉴定结论送达")
    driver.reply(
        number,
        "labour-capacity-assessment-centre",
        "received",
        note="鉴定结论：完全丧失劳动能力",
        as_of=day.isoformat(),
    )
    return number


def elderly_couple(driver: Driver, today: date) -> str:
    """Seed 004: five services in order for the paralysed son, one pool of materials."""
    driver.say("老夫妇：离异的儿子脑出血后全身瘫痪，医保断缴——定制系列服务")
    number = driver.open(
        "hardship-bundle",
        name="周德福",
        born=date(1952, 1, 20),
        phone="13600004567",
        fields={"patient_name": "周志强", "hospital_name": "某区医院"},
    )
    driver.reply(number, "district-talent-service-centre", "received", note="档案已转入")
    driver.say("失业保险金：家属带来患者身份证、户口簿（各项业务共用，只收一次）")
    driver.visit(number, "material-missing", ["patient-identity-documents"])
    driver.reply(number, "bank-branch", "received", note="账户证明已出具")
    driver.reply(number, "social-insurance-office", "received", note="失业保险金已核定")
    driver.say("接续医疗保险")
    driver.reply(number, "social-insurance-office", "received", note="医保已接续")
    driver.say("低收入家庭认定：法院、居委会、民政")
    driver.reply(number, "district-court", "received", note="判决书副本已调取")
    driver.reply(number, "residential-committee", "received", note="家庭情况证明已出具")
    driver.reply(number, "street-civil-affairs", "received", note="已认定为低收入家庭")
    driver.say("加急报销：银行账户证明沿用，不再重复索取")
    driver.reply(number, "hospital-billing-office", "received", note="已按99%比例加急结算")
    return number


def zheng(driver: Driver, today: date) -> str:
    """Seed 004: remote medical filing, outside the office's remit; pick-up and escort."""
    driver.say("81岁的郑女士：要去上海与女儿生活，办异地就医备案（退休关系在原单位）")
    number = driver.open(
        "remote-medical-filing",
        name="郑淑贞",
        born=date(1945, 4, 18),
        phone="010-63000000",
        fields={"destination_city": "上海", "former_employer": "某研究所"},
        brought=("applicant-documents",),
    )
    driver.say("她的原单位：为本案添加，并指定为“原单位人事部门”，协查函随即发出")
    employer = driver.add_agency(number, "某研究所人事处", "010-60004001", "北京市海淀区某研究所")
    driver.assign(number, "former-employer-hr", employer)
    driver.reply(number, employer, "received", note="需身份证、社保卡、居住证明")
    day = add_working_days(today, 2)
    driver.say(f"预约原单位办理：{day} 10:00，延时服务人员上门接送并陪同")
    driver.appoint(number, employer, f"{day} 10:00", "filing-receipt", "张思思", pickup=True)
    driver.chase(add_working_days(today, 1))
    driver.reply(number, employer, "received", note="备案已办结", as_of=day.isoformat())
    return number


def li(driver: Driver, today: date) -> str:
    """Seed 000: temporary assistance; told everything once, two trips, paid within a month."""
    driver.say("李阿姨：系统性红斑狼疮，申请临时救助（一次性告知全部材料）")
    number = driver.open(
        "temporary-assistance",
        name="李桂芳",
        born=date(1968, 11, 5),
        phone="13500005678",
        fields={"hardship": "慢性病长期治疗，基本生活困难"},
    )
    driver.say("李阿姨备齐材料，第2次到窗口一次交齐")
    driver.visit(
        number,
        "material-missing",
        ["signed-application", "identity-documents", "medical-documents", "income-statement"],
    )
    driver.say("审批通过，救助金已发放")
    driver.reply(number, "street-social-assistance", "received", note="救助金已发放")
    return number


STORIES: dict[str, Callable[[Driver, date], str]] = {
    "recover-cremation-certificate": shen,
    "archive-custody-proof": tianqiao_father,
    "sick-retirement": zhao_brother,
    "hardship-bundle": elderly_couple,
    "remote-medical-filing": zheng,
    "temporary-assistance": li,
}


def today_at_office() -> date:
    return office_date(now())
