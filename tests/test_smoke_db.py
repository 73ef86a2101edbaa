from sqlalchemy import select

from crm.customers import service
from crm.customers.models import Customer


async def test_a_created_customer_is_stored(db, system_actor):
    async with db.transaction() as session:
        customer = await service.create_customer(
            session, system_actor, {"email": "Ann@Example.com", "given_name": "Ann"}
        )
    async with db.transaction(write=False) as session:
        stored = await session.scalar(
            select(Customer).where(Customer.id == customer.id)
        )
    assert stored.email_key == "ann@example.com"
    assert stored.display_name == "Ann"
