from django.core.management.base import BaseCommand, CommandError

from billing.models import Plan


class Command(BaseCommand):
    help = "Set a plan's price and its Stripe price id (after creating the price in Stripe)."

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True)
        parser.add_argument("--interval", choices=["month", "year"], default="month")
        parser.add_argument("--currency", default="EUR")
        parser.add_argument("--amount", required=True, help="e.g. 690.00")
        parser.add_argument("--price-id", required=True, help="Stripe price id, price_...")

    def handle(self, *args, **options):
        plan = Plan.objects.filter(code=options["plan"]).first()
        if plan is None:
            raise CommandError(f"plan: there is no plan {options['plan']!r}.")
        if not options["price_id"].startswith("price_"):
            raise CommandError("price-id: Stripe price ids start with price_.")
        currency = options["currency"].upper()
        prices = [
            p
            for p in plan.prices
            if not (p["interval"] == options["interval"] and p["currency"] == currency)
        ]
        prices.append(
            {
                "interval": options["interval"],
                "currency": currency,
                "amount": options["amount"],
                "stripe_price_id": options["price_id"],
            }
        )
        plan.prices = prices
        plan.save(update_fields=["prices"])
        self.stdout.write(f"{plan.name}: {options['amount']} {currency}/{options['interval']}")
