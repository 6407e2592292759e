"""Working cases through the API (module ``service``; keys need ``service:read`` /
``service:write``):

    POST       /api/v1/cases/{id}/assign/               give the case to someone (or nobody)
    POST       /api/v1/cases/{id}/merge/                fold this duplicate into another case
    GET, POST  /api/v1/cases/{id}/compensations/        what the guest is given, asked for
    POST       /api/v1/compensations/{id}/decide/       approve or reject a request
    GET, POST  /api/v1/case-assignment-rules/           round-robin rules for new cases
    GET, PATCH, DELETE /api/v1/case-assignment-rules/{id}/

As everywhere: the right first (403 before any 400 or 404), a case out of the caller's
reach is a 404, one service or selector per view."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from crm.models import Case
from crm.service.models import AssignmentRule, Compensation
from crm.service.selectors import (
    assignment_rule_get,
    assignment_rules_list,
    compensation_get,
    compensations_list,
)
from crm.service.services.desk import (
    assignment_rule_create,
    assignment_rule_delete,
    assignment_rule_update,
    case_assign,
    case_merge,
    compensation_as_dict,
    compensation_decide,
    compensation_request,
)
from metadata.selectors.records import record_for
from saas.api.modules import PAGE_PARAMS
from saas.api.modules import body_valid as _valid
from saas.api.modules import error_responses as _errors
from saas.api.modules import id_field as _id
from saas.api.modules import page_of as _page_of
from saas.api.modules import path_id as _pk
from saas.api.serializers import StrictSerializer
from saas.api.service import CATEGORIES, ServiceApi


def _case(actor, pk: int, action: str = "edit") -> Case:
    return record_for(actor=actor, object_api_name="case", record_id=_pk(pk), action=action)


class CaseOut(serializers.Serializer):
    id = serializers.IntegerField()
    owner = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=Case.Status.choices)


class AssignIn(StrictSerializer):
    owner = _id(allow_null=True, help_text="The user who works the case; null: nobody")


class MergeIn(StrictSerializer):
    into = _id(help_text="The case this duplicate folds into")


class CompensationIn(StrictSerializer):
    kind = serializers.ChoiceField(choices=Compensation.Kind.choices)
    amount = serializers.CharField(
        required=False,
        max_length=20,
        help_text="Decimal string in the hotel's currency (credit, voucher, refund)",
    )
    points = serializers.IntegerField(
        required=False, min_value=1, max_value=1_000_000, help_text="Points (kind points)"
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class CompensationOut(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Compensation.Kind.choices)
    amount = serializers.CharField(allow_null=True, help_text="Decimal string")
    currency = serializers.CharField(allow_null=True, help_text="ISO 4217, the hotel's")
    points = serializers.IntegerField(allow_null=True)
    note = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=Compensation.Status.choices)
    requested_by = serializers.IntegerField(allow_null=True)
    decided_by = serializers.IntegerField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class DecideIn(StrictSerializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


PRIORITIES = [("", "Any priority"), *Case.Priority.choices]


class AssignmentRuleIn(StrictSerializer):
    name = serializers.CharField(max_length=100)
    position = serializers.IntegerField(required=False, min_value=0, max_value=9999)
    property = _id(required=False, allow_null=True, help_text="A hotel; null: any")
    category = serializers.ChoiceField(choices=CATEGORIES, required=False)
    priority = serializers.ChoiceField(choices=PRIORITIES, required=False)
    agents = serializers.ListField(
        child=_id(), min_length=1, max_length=200, help_text="User ids, in turn"
    )
    active = serializers.BooleanField(required=False)


class RuleChange(AssignmentRuleIn):
    name = serializers.CharField(max_length=100, required=False)
    agents = serializers.ListField(child=_id(), min_length=1, max_length=200, required=False)


class AssignmentRuleOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    position = serializers.IntegerField()
    property = serializers.IntegerField(allow_null=True)
    category = serializers.CharField(allow_blank=True)
    priority = serializers.CharField(allow_blank=True)
    agents = serializers.ListField(child=serializers.IntegerField())
    active = serializers.BooleanField()


def rule_as_dict(rule: AssignmentRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "position": rule.position,
        "property": rule.property_id,
        "category": rule.category,
        "priority": rule.priority,
        "agents": [int(u) for u in rule.user_ids],
        "active": rule.active,
    }


def _case_row(case: Case) -> dict[str, Any]:
    return {"id": case.pk, "owner": case.owner_id, "status": case.status}


class CaseAssignApi(ServiceApi):
    object_api_name = "case"

    @extend_schema(
        operation_id="case_assign",
        request=AssignIn,
        responses={200: CaseOut, **_errors(400, 401, 403, 404)},
        description="Give the case to a user who may work it (the right to edit cases and "
        "the case's hotel in their scope; 400 naming owner otherwise), or to nobody.",
    )
    def post(self, request, pk: int):
        actor = self.actor
        actor.require("case", "edit")
        case = _case(actor, pk)
        values = _valid(AssignIn, request)
        return self.one(_case_row(case_assign(case=case, owner_id=values["owner"], actor=actor)))


class CaseMergeApi(ServiceApi):
    object_api_name = "case"

    @extend_schema(
        operation_id="case_merge",
        request=MergeIn,
        responses={200: CaseOut, **_errors(400, 401, 403, 404, 409)},
        description="Fold this case (a duplicate) into another: messages, notes and "
        "compensation move, this case closes. 409 same_case, merged, different_guests.",
    )
    def post(self, request, pk: int):
        actor = self.actor
        actor.require("case", "edit")
        duplicate = _case(actor, pk)
        values = _valid(MergeIn, request)
        primary = _case(actor, values["into"])
        return self.one(_case_row(case_merge(duplicate=duplicate, primary=primary, actor=actor)))


class CaseCompensationsApi(ServiceApi):
    object_api_name = "case_compensation"

    @extend_schema(
        operation_id="case_compensations_list",
        parameters=PAGE_PARAMS,
        responses={
            200: _page_of("CaseCompensationPage", CompensationOut),
            **_errors(400, 401, 403, 404),
        },
    )
    def get(self, request, pk: int):
        actor = self.actor
        actor.require("case_compensation", "view")
        case = _case(actor, pk, action="view")
        rows = compensations_list(actor=actor, case=case)
        return self.page(request, rows, compensation_as_dict)

    @extend_schema(
        operation_id="case_compensation_request",
        request=CompensationIn,
        responses={201: CompensationOut, **_errors(400, 401, 403, 404)},
        description="Ask to give the guest points (loyalty on, a guest on the case) or "
        "money in the hotel's currency; someone with the right to edit compensation "
        "decides.",
    )
    def post(self, request, pk: int):
        actor = self.actor
        actor.require("case_compensation", "create")
        case = _case(actor, pk, action="view")
        values = _valid(CompensationIn, request)
        made = compensation_request(case=case, actor=actor, **values)
        return self.one(compensation_as_dict(made), status=201)


class CompensationDecideApi(ServiceApi):
    object_api_name = "case_compensation"

    @extend_schema(
        operation_id="compensation_decide",
        request=DecideIn,
        responses={200: CompensationOut, **_errors(400, 401, 403, 404, 409)},
        description="Approve or reject (not one's own request, unless an administrator); "
        "409 decided on a second decision.",
    )
    def post(self, request, pk: int):
        actor = self.actor
        actor.require("case_compensation", "edit")
        found = compensation_get(actor=actor, compensation_id=_pk(pk))
        values = _valid(DecideIn, request)
        done = compensation_decide(
            compensation=found,
            approve=values["approve"],
            note=values.get("note") or "",
            actor=actor,
        )
        return self.one(compensation_as_dict(done))


class AssignmentRuleListApi(ServiceApi):
    object_api_name = "case_assignment_rule"

    @extend_schema(
        operation_id="case_assignment_rules_list",
        parameters=PAGE_PARAMS,
        responses={
            200: _page_of("CaseAssignmentRulePage", AssignmentRuleOut),
            **_errors(400, 401, 403),
        },
    )
    def get(self, request):
        return self.page(request, assignment_rules_list(actor=self.actor), rule_as_dict)

    @extend_schema(
        operation_id="case_assignment_rule_create",
        request=AssignmentRuleIn,
        responses={201: AssignmentRuleOut, **_errors(400, 401, 403)},
        description="A new case nobody owns goes to the next agent of the first active "
        "rule (by position) whose hotel, category and priority match (absent: any); "
        "agents who cannot work the case are passed over.",
    )
    def post(self, request):
        actor = self.actor
        actor.require("case_assignment_rule", "create")
        rule = assignment_rule_create(values=_valid(AssignmentRuleIn, request), actor=actor)
        return self.one(rule_as_dict(rule), status=201)


class AssignmentRuleDetailApi(ServiceApi):
    object_api_name = "case_assignment_rule"

    @extend_schema(
        operation_id="case_assignment_rule_retrieve",
        responses={200: AssignmentRuleOut, **_errors(401, 403, 404)},
    )
    def get(self, request, pk: int):
        return self.one(rule_as_dict(assignment_rule_get(actor=self.actor, rule_id=_pk(pk))))

    @extend_schema(
        operation_id="case_assignment_rule_update",
        request=RuleChange,
        responses={200: AssignmentRuleOut, **_errors(400, 401, 403, 404)},
    )
    def patch(self, request, pk: int):
        actor = self.actor
        actor.require("case_assignment_rule", "edit")
        rule = assignment_rule_get(actor=actor, rule_id=_pk(pk))
        values = _valid(RuleChange, request)
        return self.one(rule_as_dict(assignment_rule_update(rule=rule, values=values, actor=actor)))

    @extend_schema(
        operation_id="case_assignment_rule_delete",
        responses={204: None, **_errors(401, 403, 404)},
    )
    def delete(self, request, pk: int):
        actor = self.actor
        actor.require("case_assignment_rule", "delete")
        assignment_rule_delete(rule=assignment_rule_get(actor=actor, rule_id=_pk(pk)), actor=actor)
        return Response(status=204)
