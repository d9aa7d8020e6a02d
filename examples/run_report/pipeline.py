"""A daily sales summary that shows retries, a timeout and the run report.

The pipeline loads the day's orders, then runs three branches in parallel.
One cleans the orders. One fetches exchange rates from a flaky service
whose first two calls fail and are retried. One looks up the customers in
a service whose first call stalls past the task's timeout, and the retry
succeeds. The pipeline then converts the totals to euros and writes a
summary. The external services are simulated with sleeps and counters, so
every run behaves the same way.

    python examples/run_report/pipeline.py [--trace trace.json]

It prints the summary and the `RunReport` table, and writes the run as a
Chrome trace (open it in https://ui.perfetto.dev or chrome://tracing, or
draw it with plot_timeline.py).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as a script from a checkout: make the repository's flowlite importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from flowlite import Retry, RunReport, Task, run, task

DEFAULT_TRACE = Path("trace.json")

# Each call of a simulated service takes a number from its counter, so the
# failures happen on the same attempts in every run.
_rates_calls = itertools.count(1)
_customer_calls = itertools.count(1)


@task(outputs="orders")
def load_orders(day: str) -> list[dict[str, object]]:
    """Return the day's orders: id, customer id, amount and currency."""
    time.sleep(0.05)
    currencies = ("EUR", "USD", "GBP")
    return [
        {
            "id": number,
            "customer": 100 + number % 7,
            "amount": 10.0 + number,
            "currency": currencies[number % 3],
        }
        for number in range(60)
    ]


@task(outputs="valid_orders")
def clean_orders(orders: list[dict[str, object]]) -> list[dict[str, object]]:
    """Drop the orders of the internal test customer 100."""
    time.sleep(0.15)
    return [order for order in orders if order["customer"] != 100]


@task(
    outputs="rates",
    retries=Retry(3, delay=0.05, backoff=2, retry_on=(ConnectionError,)),
)
def fetch_exchange_rates(day: str) -> dict[str, float]:
    """Return euros per unit of each currency; the simulated service fails on its first two calls."""
    call = next(_rates_calls)
    time.sleep(0.04)
    if call <= 2:
        raise ConnectionError(f"rates service reset the connection (call {call})")
    return {"EUR": 1.0, "USD": 0.92, "GBP": 1.17}


@task(outputs="customers", timeout=0.3, retries=1)
def lookup_customers(orders: list[dict[str, object]]) -> dict[int, str]:
    """Return customer names by id; the simulated service stalls for a second on its first call."""
    call = next(_customer_calls)
    time.sleep(1.0 if call == 1 else 0.1)
    return {int(str(order["customer"])): f"customer-{order['customer']}" for order in orders}


@task(outputs="totals")
def convert_totals(valid_orders: list[dict[str, object]], rates: dict[str, float]) -> dict[int, float]:
    """Sum each customer's orders in euros."""
    totals: dict[int, float] = {}
    for order in valid_orders:
        customer = int(str(order["customer"]))
        euros = float(str(order["amount"])) * rates[str(order["currency"])]
        totals[customer] = totals.get(customer, 0.0) + euros
    time.sleep(0.05)
    return totals


@task(outputs="summary")
def summarise(totals: dict[int, float], customers: dict[int, str]) -> list[str]:
    """Return one line per customer, largest total first."""
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)
    return [f"{customers[customer]:<13} {total:9.2f} EUR" for customer, total in ranked]


TASKS: list[Task[..., Any]] = [
    load_orders,
    clean_orders,
    fetch_exchange_rates,
    lookup_customers,
    convert_totals,
    summarise,
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--trace",
        type=Path,
        default=DEFAULT_TRACE,
        help=f"path of the Chrome trace JSON file to write (default: {DEFAULT_TRACE})",
    )
    arguments = parser.parse_args(argv)

    # Show flowlite's warnings: one per retry and one per abandoned attempt.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    report = RunReport()
    state = run(TASKS, {"day": "2026-12-04"}, hooks=[report])

    print("Summary")
    print("\n".join(state["summary"]))
    print()
    print(report)
    report.write_chrome_trace(arguments.trace)
    print(f"\nwrote the Chrome trace to {arguments.trace}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
