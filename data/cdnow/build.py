"""Turn the raw CDNOW files into the crm-notebooks data contract (customers, orders).

Run from the repository root: ``python data/cdnow/build.py``. The output is committed; this
script documents how it was made and is re-run only if the raw files change.
"""

from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent


def main() -> None:
    master = pd.read_csv(
        HERE / "raw" / "CDNOW_master.txt",
        sep=r"\s+",
        header=0,
        names=["customer_id", "date", "quantity", "amount"],
        dtype={"customer_id": str, "date": str},
    )
    sample = pd.read_csv(
        HERE / "raw" / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["customer_id", "sample_id", "date", "quantity", "amount"],
        dtype={"customer_id": str, "sample_id": str, "date": str},
    )
    master["ordered_at"] = pd.to_datetime(master["date"], format="%Y%m%d")
    master = master.sort_values(["customer_id", "ordered_at"], kind="stable")
    master["line"] = master.groupby("customer_id").cumcount() + 1
    orders = pd.DataFrame(
        {
            "order_id": master["customer_id"] + "-" + master["line"].map("{:03d}".format),
            "customer_id": master["customer_id"],
            "ordered_at": master["ordered_at"].dt.strftime("%Y-%m-%d"),
            "amount": master["amount"].round(2),
            "quantity": master["quantity"],
        }
    )
    first = master.groupby("customer_id")["ordered_at"].min()
    in_sample = set(sample["customer_id"])
    customers = pd.DataFrame(
        {
            "customer_id": first.index,
            "business_unit": "cdnow",
            "acquired_at": first.dt.strftime("%Y-%m-%d").to_numpy(),
            "fhl_sample": [c in in_sample for c in first.index],
        }
    )
    customers.to_csv(HERE / "customers.csv", index=False)
    orders.to_csv(HERE / "orders.csv", index=False)
    print(f"customers: {len(customers)} ({customers['fhl_sample'].sum()} in the 1/10th sample)")
    print(f"orders: {len(orders)}")


if __name__ == "__main__":
    main()
