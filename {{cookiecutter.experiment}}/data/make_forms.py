"""Write the synthetic PII-in-forms corpus: data/forms/{train,dev}.jsonl and data/evaluation/forms.jsonl.

Every value is made up and safe to publish: names from short lists, e-mail addresses at example.com
and example.org (reserved for documentation), phone numbers in the fictional 555-01xx range and social
security numbers with area numbers 900-999, which are never issued. Run it again to grow the corpus:
the same seed writes the same files. The evaluation forms (the quality gate's pinned data) are drawn
after the others, so adding them changed neither training file.

    python data/make_forms.py [--train 240] [--dev 60] [--evaluation 60] [--seed 13]
"""

import argparse
import json
import random
from pathlib import Path

FIRST = ["Maria", "James", "Aiko", "Olu", "Chen", "Fatima", "Lucas", "Priya", "Sven", "Amara", "Diego",
         "Hannah", "Kofi", "Ines", "Mateo", "Noor", "Ravi", "Sofia", "Tomasz", "Yara"]
LAST = ["Garcia", "Smith", "Tanaka", "Adeyemi", "Wei", "Khan", "Silva", "Patel", "Lindqvist", "Okafor",
        "Morales", "Becker", "Mensah", "Duarte", "Rossi", "Haddad", "Iyer", "Novak", "Kowalski", "Nasser"]
STREETS = ["Oak Street", "Maple Avenue", "Harbor Road", "Elm Lane", "Station Square", "Mill Road", "Park Drive"]
CITIES = ["Springfield", "Riverton", "Lakeside", "Fairview", "Greenville", "Westbrook"]
LABELS = ("NAME", "EMAIL", "PHONE", "SSN", "DOB", "ADDRESS")

# A form line is its label text, then the value; values are the entities.
FIELDS = {
    "NAME": ["Name:", "Full name:", "Applicant:", "Patient name:", "Employee:"],
    "EMAIL": ["Email:", "E-mail address:", "Contact email:"],
    "PHONE": ["Phone:", "Telephone:", "Mobile:", "Phone number:"],
    "SSN": ["SSN:", "Social security number:", "SSN #"],
    "DOB": ["Date of birth:", "DOB:", "Birth date:"],
    "ADDRESS": ["Address:", "Home address:", "Mailing address:"],
}
FILLERS = ["Department: Billing.", "Reason for visit: annual check-up.", "Form 12-B, page 1.",
           "Please print clearly.", "Signature on file.", "Office use only.", "Policy type: standard."]


def value(label, rng):
    """A made-up value for one field."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if label == "NAME":
        return f"{first} {last}"
    if label == "EMAIL":
        return f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}@{rng.choice(['example.com', 'example.org'])}"
    if label == "PHONE":
        pattern = rng.choice(["({area}) 555-01{line:02d}", "{area}-555-01{line:02d}", "+1 {area} 555 01{line:02d}"])
        return pattern.format(area=rng.randint(201, 989), line=rng.randint(0, 99))
    if label == "SSN":
        return f"{rng.randint(900, 999)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"
    if label == "DOB":
        return f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(1940, 2005)}"
    return f"{rng.randint(1, 999)} {rng.choice(STREETS)}, {rng.choice(CITIES)}"


def form(rng):
    """One synthetic form: a few labelled fields and filler lines, with the character spans of the values."""
    labels = rng.sample(LABELS, rng.randint(2, len(LABELS)))
    entities, text = [], ""
    pieces = [("field", label) for label in labels] + [("filler", f) for f in rng.sample(FILLERS, rng.randint(0, 2))]
    rng.shuffle(pieces)
    for kind, item in pieces:
        if text:
            text += rng.choice([" ", "\n"])
        if kind == "filler":
            text += item
            continue
        text += rng.choice(FIELDS[item]) + " "
        start = len(text)
        text += value(item, rng)
        entities.append([start, len(text), item])
        text += rng.choice(["", ".", ";"])
    return {"text": text, "entities": entities}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=240)
    parser.add_argument("--dev", type=int, default=60)
    parser.add_argument("--evaluation", type=int, default=60)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    targets = (("forms/train.jsonl", args.train), ("forms/dev.jsonl", args.dev),
               ("evaluation/forms.jsonl", args.evaluation))
    for relative, count in targets:
        lines = [json.dumps(form(rng), ensure_ascii=False) for _ in range(count)]
        target = args.out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {count} forms to {target}")


if __name__ == "__main__":
    main()
