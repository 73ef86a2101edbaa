"""node(id:) and nodes(ids:): any object by global ID, within the caller's rights."""

from __future__ import annotations

import strawberry

from crm.actors import CustomerActor
from crm.audit.models import AuditEvent as AuditModel
from crm.corrections import service as correction_service
from crm.customers import service as customer_service
from crm.erasure import service as erasure_service
from crm.errors import BadInput, NotFound
from crm.ids import parse_global_id
from crm.interactions import service as interaction_service
from crm.me import service as me_service
from crm.partners import service as partner_service
from crm.permissions import Permission
from crm.policy import require
from crm.segments import service as segment_service
from crm.staff.models import StaffMember as StaffModel
from schema.audit.types import AuditEvent
from schema.context import Info
from schema.customers.types import Customer
from schema.interactions.types import Interaction
from schema.me.selfservice import MyCorrection
from schema.me.types import MyInteraction, MyProfile
from schema.partners.types import ApiKey, PartnerApp, api_keys_loader
from schema.permissions import IsAuthenticated, gate
from schema.planner import roots as planner
from schema.relay import Node, node_not_found
from schema.segments.types import Segment
from schema.selfservice.access import note_customer_reads
from schema.selfservice.types import Correction, ErasureRequest
from schema.staff.types import StaffMember

MAX_NODES = 100


async def resolve_node(info: Info, id: str) -> Node:
    """The object behind a global ID; a missing object, one the caller may not see
    and an unknown type all give the same NOT_FOUND error (no existence oracle)."""
    type_name, pk = parse_global_id(id)
    try:
        found = await _find(info, type_name, pk)
    except NotFound:
        found = None
    if found is None:
        raise node_not_found()
    return found


async def _find(info: Info, type_name: str, pk: int) -> Node | None:
    ctx = info.context
    if isinstance(ctx.actor, CustomerActor):
        return await _find_own(info, type_name, pk)
    if type_name == "Customer":
        customer = await customer_service.get_customer(ctx.session, ctx.actor, pk)
        note_customer_reads(info, (customer.id,))
        return Customer.from_model(customer)
    if type_name == "Interaction":
        model = await interaction_service.get_interaction(ctx.session, ctx.actor, pk)
        return Interaction.from_model(model)
    if type_name == "StaffMember":
        require(ctx.actor, Permission.STAFF_READ)
        member = await ctx.session.get(StaffModel, pk)
        if member is not None:
            return StaffMember.from_model(member)
    if type_name == "AuditEvent":
        require(ctx.actor, Permission.AUDIT_READ)
        event = await ctx.session.get(AuditModel, pk)
        if event is not None:
            return AuditEvent.from_model(event, ctx.actor)
    if type_name == "Correction":
        correction = await correction_service.get_correction(ctx.session, ctx.actor, pk)
        return Correction.from_model(correction)
    if type_name == "ErasureRequest":
        request = await erasure_service.get_request(ctx.session, ctx.actor, pk)
        return ErasureRequest.from_model(request)
    if type_name == "Segment":
        segment = await segment_service.get_segment(ctx.session, ctx.actor, pk)
        return Segment.from_model(segment)
    if type_name == "PartnerApp":
        app = await partner_service.get_partner_app(ctx.session, ctx.actor, pk)
        return PartnerApp.from_model(app, api_keys_loader(info))
    if type_name == "ApiKey":
        key = await partner_service.get_api_key(ctx.session, ctx.actor, pk)
        owner = await partner_service.get_partner_app(
            ctx.session, ctx.actor, key.partner_app_id
        )
        return ApiKey.from_model(key, owner, api_keys_loader(info))
    return None


async def _find_own(info: Info, type_name: str, pk: int) -> Node | None:
    """What a customer may fetch by ID: their own profile, the interactions shared
    with them and their corrections, as their own types."""
    ctx = info.context
    if type_name == "Customer":
        profile = await me_service.get_my_profile(ctx.session, ctx.actor, pk)
        return MyProfile.from_model(profile)
    if type_name == "Interaction":
        model = await me_service.get_my_interaction(ctx.session, ctx.actor, pk)
        return MyInteraction.from_model(model)
    if type_name == "Correction":
        mine = await correction_service.get_my_correction(ctx.session, ctx.actor, pk)
        return MyCorrection.from_model(mine)
    return None


@strawberry.type
class NodeQueries:
    @strawberry.field(
        description="Any object by its global ID.",
        extensions=gate(IsAuthenticated()),
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        planned = await planner.node(info, id)
        if planned is not None:
            return planned  # type: ignore[return-value]
        return await resolve_node(info, id)

    @strawberry.field(
        description=f"Many objects by global ID (at most {MAX_NODES}); null where an "
        "object does not exist or is not yours to see.",
        extensions=gate(IsAuthenticated()),
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise BadInput(f"Ask for at most {MAX_NODES} IDs at once.", field="ids")
        planned = await planner.nodes(info, ids)
        if planned is not None:
            return planned  # type: ignore[return-value]
        results: list[Node | None] = []
        for id in ids:
            try:
                results.append(await resolve_node(info, id))
            except NotFound:
                results.append(None)
        return results
