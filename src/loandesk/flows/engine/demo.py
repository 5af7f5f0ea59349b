"""The shipped demo flow 贷款审批 (loan approval), as definition JSON.

officer submits → business manager first review (head of the initiator's department) →
automated risk scorecard → risk review (role ``risk``, may edit amount/term/rate) →
condition ``amount > 500000`` → GM final review (role ``gm``), else skip → automated contract
→ finance disburses (role ``finance``, an approval node where finance fills the payee account
and date) → automated ``disburse`` (books the loan, result stored as ``loan``) → CC to the
branch head (head of the department above the initiator's) → end.

The Django demo seed publishes it; ``docs/flow-engine.md`` shows it as the reference example.
"""

from __future__ import annotations

from typing import Any

_WORKING_DAY = {"working_hours": True, "reminder_before": 2, "on_timeout": "escalate"}

DEMO_LOAN_APPROVAL: dict[str, Any] = {
    "key": "loan_approval",
    "name": "贷款审批",
    "version": 1,
    "settings": {"resubmit_from": "start", "urge_interval_minutes": 60},
    "nodes": [
        {
            "id": "start",
            "kind": "start",
            "name": "客户经理提交",
            "borrower_label": "提交申请",
            "field_permissions": {
                "product": "edit",
                "amount": "edit",
                "term": "edit",
                "annual_rate": "edit",
                "purpose": "edit",
                "guarantee": "edit",
                "applicant_income": "edit",
                "co_borrowers": "edit",
                "income_proof": "edit",
                "remark": "edit",
            },
        },
        {
            "id": "manager_review",
            "kind": "approval",
            "name": "业务经理初审",
            "borrower_label": "初审",
            "assignees": [{"kind": "dept_head", "levels_up": 0}],
            "mode": "any",
            "on_empty": "to_admin",
            "skip_initiator": True,
            "deadline": {"hours": 8, **_WORKING_DAY},
            "actions": ["approve", "reject", "return", "transfer", "add_signer", "comment"],
            "return_targets": ["initiator"],
            "field_permissions": {"applicant_id_number": "read", "applicant_income": "read"},
        },
        {
            "id": "risk_scorecard",
            "kind": "automated",
            "name": "风险评分卡",
            "borrower_label": "风险评估",
            "action": "risk_scorecard",
            "params": {"scorecard": "default"},
            "on_failure": "stop",
            "result_key": "risk",
        },
        {
            "id": "risk_review",
            "kind": "approval",
            "name": "风控审核",
            "borrower_label": "风控审核",
            "assignees": [{"kind": "role", "role": "risk"}],
            "mode": "any",
            "on_empty": "to_admin",
            "skip_previous_approver": True,
            "deadline": {"hours": 16, **_WORKING_DAY},
            "actions": ["approve", "reject", "return", "transfer", "add_signer", "comment"],
            "return_targets": ["initiator", "manager_review"],
            "field_permissions": {
                "amount": "edit",
                "term": "edit",
                "annual_rate": "edit",
                "guarantee": "edit",
                "risk_opinion": "edit",
                "applicant_id_number": "read",
            },
        },
        {
            "id": "amount_check",
            "kind": "condition_group",
            "name": "金额判断",
            "branches": [
                {
                    "id": "large_amount",
                    "name": "金额 > 500,000",
                    "condition": {">": [{"var": "amount"}, 500000]},
                    "nodes": [
                        {
                            "id": "gm_review",
                            "kind": "approval",
                            "name": "总经理终审",
                            "borrower_label": "终审",
                            "assignees": [{"kind": "role", "role": "gm"}],
                            "mode": "any",
                            "on_empty": "to_admin",
                            "deadline": {
                                "hours": 24,
                                "working_hours": True,
                                "reminder_before": 4,
                                "on_timeout": "none",
                            },
                            "actions": ["approve", "reject", "return", "comment"],
                            "return_targets": ["initiator", "risk_review"],
                        }
                    ],
                },
                {"id": "normal_amount", "name": "其他情况", "default": True, "nodes": []},
            ],
        },
        {
            "id": "contract",
            "kind": "automated",
            "name": "生成合同",
            "borrower_label": "合同生成",
            "action": "generate_contract",
            "params": {"template": "loan_contract"},
            "on_failure": "stop",
            "result_key": "contract",
        },
        {
            "id": "disbursement",
            "kind": "approval",
            "name": "财务放款",
            "borrower_label": "放款",
            "assignees": [{"kind": "role", "role": "finance"}],
            "mode": "any",
            "on_empty": "to_admin",
            "actions": ["approve", "return", "transfer", "comment"],
            "return_targets": ["initiator", "risk_review"],
            "field_permissions": {
                "disbursement_account_name": "edit",
                "disbursement_account_no": "edit",
                "disbursement_bank": "edit",
                "disbursement_date": "edit",
            },
        },
        {
            "id": "disburse",
            "kind": "automated",
            "name": "放款入账",
            "borrower_label": "放款",
            "action": "disburse",
            "params": {},
            "on_failure": "stop",
            "result_key": "loan",
        },
        {
            "id": "cc_branch_head",
            "kind": "cc",
            "name": "抄送支行负责人",
            "recipients": [{"kind": "dept_head", "levels_up": 1}],
        },
        {"id": "end", "kind": "end", "name": "结束"},
    ],
}
