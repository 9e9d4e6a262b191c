"""The returns contract as data (its rule codes are members of `ingestion.intake.problems.Code`).

One place states every column, header alias, value type and label of the five
sources. The readers use it to map headers and parse values, the GX suite builder
(`ingestion.contract.suites`) turns it into `expectations/*.json`, and the DDL of
the `raw` tables is checked against it in tests. Change a rule here, not in code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ValueType = Literal["text", "date", "money", "decimal", "count", "enum", "bool", "article", "personal"]


@dataclass(frozen=True)
class Column:
    """One contract column: its machine name, Vietnamese header and value rule."""

    name: str
    header_vi: str
    type: ValueType
    required: bool = False
    labels: dict[str, str] = field(default_factory=dict)  # Vietnamese label -> stored code
    aliases: tuple[str, ...] = ()
    description_en: str = ""
    # personal columns: the person words (folded) a header names them by, with a name word
    # (`họ tên`, `tên`, `danh sách`, `name`): `Họ và tên bị can`, `Tên bị can`, `Accused names`…
    person_roles: tuple[str, ...] = ()

    @property
    def sql_type(self) -> str:
        return {
            "text": "text",
            "date": "date",
            "money": "bigint",
            "decimal": "numeric(18,2)",
            "count": "integer",
            "enum": "text",
            "bool": "boolean",
            "article": "smallint",
            "personal": "text[]",
        }[self.type]

    @property
    def load_name(self) -> str:
        """Column name in the `raw` table: personal data only ever lands pseudonymised."""
        return f"{self.name}_pseudonyms" if self.type == "personal" else self.name


@dataclass(frozen=True)
class PlausibilityRule:
    """A check that flags a row but loads it (contract: 'implausible but possible')."""

    code: str
    kind: Literal["pair_le", "sum_le"]
    columns: tuple[str, ...]  # pair_le: (a, b) means a <= b; sum_le: parts..., total
    reason_vi: str
    reason_en: str


@dataclass(frozen=True)
class ConditionalRequired:
    """`column` must be present when `when_column` holds the code `when_code`."""

    column: str
    when_column: str
    when_code: str


@dataclass(frozen=True)
class Source:
    """One of the five source systems and its return layout."""

    code: str
    name_vi: str
    name_en: str
    record_vi: str
    raw_table: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    agencies: tuple[str, ...]
    conditional_required: tuple[ConditionalRequired, ...] = ()
    plausibility: tuple[PlausibilityRule, ...] = ()
    date_columns_not_after_period_end: tuple[str, ...] = ()
    unique_sets: tuple[tuple[str, ...], ...] = ()  # defaults to (key,)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def uniques(self) -> tuple[tuple[str, ...], ...]:
        return self.unique_sets or (self.key,)

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)


YES_NO = {"Có": "true", "Không": "false"}

THANHTRA = Source(
    code="thanhtra",
    name_vi="Thanh tra, kiểm tra",
    name_en="Inspections and internal checks",
    record_vi="cuộc thanh tra, kiểm tra",
    raw_table="thanhtra_inspections",
    key=("inspection_id",),
    agencies=("TT",),
    columns=(
        Column("inspection_id", "Mã cuộc thanh tra", "text", True),
        Column("title", "Tên cuộc thanh tra", "text", True),
        Column(
            "kind",
            "Hình thức",
            "enum",
            True,
            {"Theo kế hoạch": "planned", "Đột xuất": "ad_hoc", "Kiểm tra nội bộ": "internal_check"},
        ),
        Column("sector", "Lĩnh vực", "text"),
        Column("inspected_entity", "Đơn vị được thanh tra", "text"),
        Column("start_date", "Ngày công bố quyết định", "date", True),
        Column("status", "Trạng thái", "enum", True, {"Đang tiến hành": "in_progress", "Đã kết luận": "concluded"}),
        Column("conclusion_no", "Số kết luận", "text"),
        Column("conclusion_date", "Ngày kết luận", "date"),
        Column("violation_vnd", "Sai phạm về tiền (đồng)", "money"),
        Column("violation_land_m2", "Sai phạm về đất (m2)", "decimal"),
        Column("recommended_recovery_vnd", "Kiến nghị thu hồi (đồng)", "money"),
        Column("recovered_vnd", "Đã thu hồi (đồng)", "money"),
        Column("orgs_proposed", "Kiến nghị xử lý tổ chức", "count"),
        Column("persons_proposed", "Kiến nghị xử lý cá nhân", "count"),
        Column("heads_disciplined", "Người đứng đầu bị xử lý", "count"),
        Column("corruption_cases", "Phát hiện tham nhũng (vụ)", "count"),
        Column("corruption_persons", "Phát hiện tham nhũng (người)", "count"),
        Column("transferred_cases", "Chuyển cơ quan điều tra (vụ)", "count"),
        Column("transferred_persons", "Chuyển cơ quan điều tra (đối tượng)", "count"),
        Column("transfer_ref", "Số hồ sơ chuyển", "text"),
    ),
    conditional_required=(
        ConditionalRequired("conclusion_no", "status", "concluded"),
        ConditionalRequired("conclusion_date", "status", "concluded"),
    ),
    plausibility=(
        PlausibilityRule(
            "recovered_above_recommended",
            "pair_le",
            ("recovered_vnd", "recommended_recovery_vnd"),
            "Số đã thu hồi lớn hơn số kiến nghị thu hồi",
            "Recovered amount exceeds the amount recommended for recovery",
        ),
        PlausibilityRule(
            "transferred_above_detected",
            "pair_le",
            ("transferred_cases", "corruption_cases"),
            "Số vụ chuyển cơ quan điều tra lớn hơn số vụ phát hiện tham nhũng",
            "Cases transferred to investigation exceed corruption cases detected",
        ),
    ),
    date_columns_not_after_period_end=("start_date", "conclusion_date"),
)

DIEUTRA = Source(
    code="dieutra",
    name_vi="Cơ quan điều tra",
    name_en="Investigation agencies",
    record_vi="vụ án",
    raw_table="dieutra_cases",
    key=("case_id",),
    agencies=("CA", "QD"),
    columns=(
        Column("case_id", "Mã vụ án", "text", True),
        Column("case_title", "Tên vụ án", "text", True),
        Column("initiation_date", "Ngày khởi tố", "date", True),
        Column("article", "Điều luật", "article", True),
        Column("accused_count", "Số bị can", "count", True),
        Column(
            "detection_channel",
            "Nguồn phát hiện",
            "enum",
            True,
            {
                "Thanh tra": "inspection",
                "Kiểm tra": "internal_check",
                "Kiểm toán": "audit",
                "Tố cáo, tin báo": "complaint",
                "Báo chí": "press",
                "Cơ quan điều tra tự phát hiện": "investigation_own",
                "Khác": "other",
            },
        ),
        Column("transfer_ref", "Số hồ sơ chuyển", "text"),
        Column("damage_vnd", "Thiệt hại (đồng)", "money"),
        Column("secured_vnd", "Đã thu hồi, kê biên, phong tỏa (đồng)", "money"),
        Column(
            "status",
            "Trạng thái",
            "enum",
            True,
            {
                "Đang điều tra": "investigating",
                "Đề nghị truy tố": "proposed_prosecution",
                "Tạm đình chỉ": "suspended",
                "Đình chỉ": "terminated",
            },
        ),
        Column("closing_date", "Ngày kết thúc điều tra", "date"),
        Column(
            "accused_names",
            "Họ tên bị can",
            "personal",
            aliases=("Họ và tên bị can", "Tên bị can", "Họ tên các bị can", "Danh sách bị can", "Accused names"),
            person_roles=("bi can", "cac bi can", "accused", "accused persons", "suspect", "suspects"),
        ),
    ),
    plausibility=(
        PlausibilityRule(
            "secured_above_damage",
            "pair_le",
            ("secured_vnd", "damage_vnd"),
            "Số đã thu hồi, kê biên, phong tỏa lớn hơn thiệt hại",
            "Amount secured exceeds the damage",
        ),
    ),
    date_columns_not_after_period_end=("initiation_date", "closing_date"),
)

TRUYTO = Source(
    code="truyto",
    name_vi="Viện kiểm sát",
    name_en="Procuracies",
    record_vi="vụ án",
    raw_table="truyto_cases",
    key=("case_id",),
    agencies=("VKS",),
    columns=(
        Column("case_id", "Mã vụ án", "text", True),
        Column("received_date", "Ngày thụ lý", "date", True),
        Column("article", "Điều luật", "article", True),
        Column("accused_count", "Số bị can", "count", True),
        Column("indictment_no", "Số cáo trạng", "text"),
        Column("indictment_date", "Ngày truy tố", "date"),
        Column("indicted_count", "Số bị can bị truy tố", "count"),
        Column(
            "status",
            "Trạng thái",
            "enum",
            True,
            {
                "Đang giải quyết": "pending",
                "Đã truy tố": "indicted",
                "Trả hồ sơ điều tra bổ sung": "returned_for_investigation",
                "Tạm đình chỉ": "suspended",
                "Đình chỉ": "terminated",
            },
        ),
    ),
    conditional_required=(ConditionalRequired("indictment_date", "status", "indicted"),),
    plausibility=(
        PlausibilityRule(
            "indicted_above_accused",
            "pair_le",
            ("indicted_count", "accused_count"),
            "Số bị can bị truy tố lớn hơn số bị can",
            "Persons indicted exceed persons accused",
        ),
    ),
    date_columns_not_after_period_end=("received_date", "indictment_date"),
)

XETXU = Source(
    code="xetxu",
    name_vi="Tòa án",
    name_en="Courts",
    record_vi="vụ án ở một cấp xét xử",
    raw_table="xetxu_cases",
    key=("case_id", "judgment_no", "trial_level"),
    agencies=("TA",),
    columns=(
        Column("case_id", "Mã vụ án", "text"),
        Column("trial_level", "Cấp xét xử", "enum", True, {"Sơ thẩm": "first_instance", "Phúc thẩm": "appeal"}),
        Column("received_date", "Ngày thụ lý", "date", True),
        Column("article", "Điều luật", "article", True),
        Column("defendants_count", "Số bị cáo", "count", True),
        Column("judgment_no", "Số bản án", "text"),
        Column("trial_date", "Ngày xét xử", "date"),
        Column("convicted_count", "Số bị cáo bị kết án", "count"),
        Column("ordered_vnd", "Số tiền tuyên thu hồi, bồi thường (đồng)", "money"),
        Column(
            "status",
            "Trạng thái",
            "enum",
            True,
            {
                "Chưa xét xử": "not_tried",
                "Đã xét xử": "tried",
                "Trả hồ sơ": "returned",
                "Tạm đình chỉ": "suspended",
                "Đình chỉ": "terminated",
            },
        ),
        Column(
            "defendant_names",
            "Họ tên bị cáo",
            "personal",
            aliases=("Họ và tên bị cáo", "Tên bị cáo", "Họ tên các bị cáo", "Danh sách bị cáo", "Defendant names"),
            person_roles=("bi cao", "cac bi cao", "defendant", "defendants"),
        ),
    ),
    conditional_required=(ConditionalRequired("trial_date", "status", "tried"),),
    plausibility=(
        PlausibilityRule(
            "convicted_above_defendants",
            "pair_le",
            ("convicted_count", "defendants_count"),
            "Số bị cáo bị kết án lớn hơn số bị cáo",
            "Persons convicted exceed defendants",
        ),
    ),
    date_columns_not_after_period_end=("received_date", "trial_date"),
    # case_id is sometimes missing: a row is then identified by its judgment number
    unique_sets=(("case_id", "trial_level"), ("judgment_no", "trial_level")),
)

THADS = Source(
    code="thads",
    name_vi="Thi hành án dân sự",
    name_en="Civil judgment enforcement",
    record_vi="việc thi hành án",
    raw_table="thads_matters",
    key=("decision_no",),
    agencies=("THADS",),
    columns=(
        Column("decision_no", "Số quyết định thi hành án", "text", True),
        Column("judgment_no", "Số bản án", "text", True),
        Column("case_id", "Mã vụ án", "text"),
        Column("decision_date", "Ngày ra quyết định", "date", True),
        Column("due_vnd", "Số tiền phải thi hành (đồng)", "money", True),
        Column("enforceable", "Có điều kiện thi hành", "bool", True),
        Column("collected_vnd", "Số tiền đã thi hành (đồng)", "money"),
        Column(
            "status",
            "Trạng thái",
            "enum",
            True,
            {
                "Đang thi hành": "enforcing",
                "Đã thi hành xong": "completed",
                "Chưa có điều kiện": "no_means",
                "Hoãn, tạm đình chỉ": "postponed_suspended",
            },
        ),
    ),
    plausibility=(
        PlausibilityRule(
            "collected_above_due",
            "pair_le",
            ("collected_vnd", "due_vnd"),
            "Số tiền đã thi hành lớn hơn số phải thi hành",
            "Collected amount exceeds the amount due",
        ),
    ),
    date_columns_not_after_period_end=("decision_date",),
)

SOURCES: dict[str, Source] = {s.code: s for s in (THANHTRA, DIEUTRA, TRUYTO, XETXU, THADS)}

# Columns every raw table carries besides the contract's own: lineage to the registry.
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("file_id", "bigint not null"),
    ("row_number", "integer not null"),
)
