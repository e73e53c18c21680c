#!/usr/bin/python3
"""Procedural demo corpus for quantlab's built-in model.

Everything here is generated from word lists and sentence templates written
for this project; no external text is used.  The output is deterministic for
a given --seed.  A fixed "world" (invented countries, capitals, rivers,
characters) is drawn first from the seed, so facts stay consistent across
the training and evaluation splits and the model can actually learn them.

Documents (one per line) are of five kinds: short stories with dialogue,
geography facts, arithmetic with step-by-step reasoning, short expository
paragraphs ("In the field of ..."), and small logic puzzles.

Usage:
  make_corpus.py --out-dir DIR [--train-bytes N] [--eval-bytes N] [--seed S]
writes DIR/train.txt, DIR/eval.txt and DIR/prompts.txt.
"""

import argparse
import os
import random

PROMPTS = [
    "Once upon a time",
    "The capital of France is",
    "To solve this math problem, first we need to",
    "In the field of artificial intelligence,",
    "Step-by-step reasoning: If x = 5 and y = 3, then x + y =",
]

# ---------------------------------------------------------------- word lists
ONSETS = ["b", "br", "c", "d", "dr", "f", "g", "gr", "h", "j", "k", "l", "m",
          "n", "p", "r", "s", "st", "t", "tr", "v", "w", "z", "th", "sh", "ch",
          "kl", "fl", "pl", "sl", "m", "l", "r", "n"]
VOWELS = ["a", "e", "i", "o", "u", "a", "e", "o", "ai", "ea", "ou", "y"]
CODAS = ["", "", "", "n", "r", "l", "s", "th", "m", "nd", "rk", "x", "sh", "t"]

REAL_CAPITALS = [
    ("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"),
    ("Spain", "Madrid"), ("Japan", "Tokyo"), ("Egypt", "Cairo"),
    ("Canada", "Ottawa"), ("Peru", "Lima"), ("Kenya", "Nairobi"),
    ("Norway", "Oslo"), ("Greece", "Athens"), ("Portugal", "Lisbon"),
    ("Ireland", "Dublin"), ("Poland", "Warsaw"), ("Austria", "Vienna"),
    ("Sweden", "Stockholm"), ("Finland", "Helsinki"), ("China", "Beijing"),
    ("India", "New Delhi"), ("Russia", "Moscow"), ("Mexico", "Mexico City"),
    ("Argentina", "Buenos Aires"), ("Chile", "Santiago"), ("Cuba", "Havana"),
    ("Turkey", "Ankara"), ("Thailand", "Bangkok"), ("Vietnam", "Hanoi"),
    ("Australia", "Canberra"), ("Brazil", "Brasilia"), ("Denmark", "Copenhagen"),
]
# Facts phrased for this corpus about the real countries above.
REAL_EXTRA = {
    "France": ["France is a country in western Europe.",
               "Paris is known for its museums, its bridges and its cafes.",
               "People in France speak French.",
               "The river Seine flows through Paris."],
    "Italy": ["Rome is a very old city with many ruins.",
              "People in Italy speak Italian."],
    "Japan": ["Japan is a country made of many islands.",
              "People in Japan speak Japanese."],
    "Egypt": ["The river Nile flows through Egypt.",
              "Cairo is a large city near the Nile."],
    "Germany": ["People in Germany speak German.",
                "Berlin is the largest city in Germany."],
    "Spain": ["People in Spain speak Spanish.",
              "Madrid is in the middle of Spain."],
}

CONTINENT_WORDS = ["north", "south", "east", "west", "middle"]
CLIMATES = ["warm", "cold", "dry", "wet", "windy", "mild", "snowy", "sunny"]
LANDS = ["mountains", "hills", "forests", "deserts", "lakes", "islands",
         "plains", "valleys", "marshes", "beaches"]
EXPORTS = ["wool", "salt", "copper", "tea", "rice", "wheat", "fish", "glass",
           "paper", "cloth", "honey", "olives", "apples", "silver", "timber",
           "cheese", "spices", "pottery", "coffee", "cotton"]

ROLES = ["girl", "boy", "farmer", "baker", "fox", "rabbit", "bear", "mouse",
         "cat", "dog", "king", "queen", "princess", "prince", "sailor",
         "teacher", "fisherman", "owl", "dragon", "robot", "wizard", "painter",
         "tailor", "miller", "shepherd", "knight", "frog", "turtle", "duck",
         "goat", "gardener", "doctor", "clockmaker", "musician", "squirrel"]
ADJ_CHAR = ["little", "brave", "kind", "clever", "shy", "curious", "happy",
            "old", "young", "tired", "proud", "gentle", "quiet", "funny",
            "busy", "lonely", "wise", "careful", "cheerful", "grumpy"]
PLACES = ["village", "forest", "castle", "farm", "town", "house by the sea",
          "cottage", "garden", "valley", "mountain", "harbor", "market",
          "mill", "tower", "meadow", "island", "bakery", "library", "school",
          "cave"]
OBJECTS = ["red ball", "blue hat", "small box", "golden key", "wooden boat",
           "silver coin", "old map", "green kite", "yellow lamp", "magic stone",
           "music box", "basket of apples", "little drum", "paper bird",
           "warm scarf", "shiny bell", "book of stories", "toy horse",
           "glass jar", "long rope", "pair of boots", "bag of seeds",
           "loaf of bread", "white feather", "brass compass", "clay cup",
           "painted egg", "wool blanket", "tin whistle", "purple umbrella"]
SPOTS = ["under the bed", "behind the door", "in the garden", "near the river",
         "on the hill", "under a big tree", "in the kitchen", "by the well",
         "on the roof", "in the barn", "at the market", "inside an old boot",
         "next to the fence", "under the bridge", "in the tall grass"]
WEATHER = ["The sun was shining.", "It was raining softly.",
           "The wind was cold.", "Snow covered the ground.",
           "The sky was grey.", "It was a warm spring morning.",
           "The night was dark and quiet.", "Leaves were falling."]
FEELINGS = ["happy", "sad", "worried", "excited", "surprised", "scared",
            "angry", "calm", "proud", "thankful"]
FOODS = ["soup", "bread", "cake", "pie", "apples", "berries", "cheese",
         "honey", "carrots", "fish", "rice", "cookies", "pears", "nuts"]
ACTIVITIES = ["play a game", "build a tower", "fly a kite", "go fishing",
              "plant flowers", "bake a cake", "sing a song", "paint a picture",
              "read a book", "climb the hill", "look for shells",
              "count the stars", "visit the market", "swim in the lake"]
ENDINGS = [
    "From that day on, {a} and {b} were the best of friends.",
    "{a} smiled and went home happy.",
    "That night, {a} slept well and dreamed of the {obj}.",
    "And so {a} learned that it is good to ask for help.",
    "{a} never lost the {obj} again.",
    "Everyone in the {place} was happy, and they had {food} for dinner.",
]

FIELDS = {
    "artificial intelligence": {
        "who": "researchers",
        "study": ["how machines can learn from data",
                  "how computers can understand language",
                  "how a program can plan and make decisions",
                  "how models can recognize pictures"],
        "ideas": [("a neural network", "is made of many layers of simple units"),
                  ("training", "means changing the weights of a model to make fewer mistakes"),
                  ("a language model", "predicts the next word in a text"),
                  ("quantization", "stores the weights with fewer bits to save memory"),
                  ("a data set", "is a large collection of examples"),
                  ("overfitting", "happens when a model remembers examples instead of learning rules")],
    },
    "biology": {
        "who": "biologists",
        "study": ["how living things grow", "how cells work",
                  "how animals and plants change over time"],
        "ideas": [("a cell", "is the smallest unit of life"),
                  ("photosynthesis", "lets plants make food from sunlight"),
                  ("a gene", "carries information from parents to children")],
    },
    "astronomy": {
        "who": "astronomers",
        "study": ["the stars and the planets", "how galaxies form",
                  "the light that comes from space"],
        "ideas": [("a planet", "moves around a star"),
                  ("a telescope", "collects light from far away"),
                  ("the moon", "moves around the earth")],
    },
    "chemistry": {
        "who": "chemists",
        "study": ["what things are made of", "how substances react",
                  "how atoms join together"],
        "ideas": [("an atom", "is a very small piece of matter"),
                  ("water", "is made of hydrogen and oxygen"),
                  ("a reaction", "turns some substances into new ones")],
    },
    "mathematics": {
        "who": "mathematicians",
        "study": ["numbers and shapes", "patterns and proofs",
                  "how to solve equations"],
        "ideas": [("a prime number", "can only be divided by one and itself"),
                  ("a proof", "shows that a statement is always true"),
                  ("a triangle", "has three sides and three corners")],
    },
    "medicine": {
        "who": "doctors",
        "study": ["how to keep people healthy", "how diseases spread",
                  "how the human body works"],
        "ideas": [("the heart", "pumps blood through the body"),
                  ("a vaccine", "teaches the body to fight a disease"),
                  ("sleep", "helps the body to rest and heal")],
    },
    "economics": {
        "who": "economists",
        "study": ["how people buy and sell things", "how prices change",
                  "how countries trade with each other"],
        "ideas": [("a market", "is a place where buyers meet sellers"),
                  ("money", "makes it easy to trade"),
                  ("a price", "often rises when many people want something")],
    },
    "music": {
        "who": "musicians",
        "study": ["sounds and rhythms", "how songs are written",
                  "how instruments make sound"],
        "ideas": [("a melody", "is a line of notes that sounds like a tune"),
                  ("rhythm", "is the pattern of long and short sounds"),
                  ("a drum", "makes sound when it is hit")],
    },
    "geology": {
        "who": "geologists",
        "study": ["rocks and mountains", "how the earth changes",
                  "why volcanoes erupt"],
        "ideas": [("a volcano", "is an opening where hot rock comes out"),
                  ("erosion", "slowly wears rocks away"),
                  ("a fossil", "is the trace of a very old living thing")],
    },
    "computer science": {
        "who": "computer scientists",
        "study": ["how programs run", "how to store data",
                  "how to make software fast"],
        "ideas": [("an algorithm", "is a list of steps to solve a problem"),
                  ("memory", "holds the data a program is using"),
                  ("a compiler", "turns source code into a program")],
    },
}
ITEMS = ["apples", "pears", "coins", "marbles", "books", "eggs", "shells",
         "pencils", "stones", "cookies", "flowers", "stamps", "cards", "fish"]
# (group, what all of them do, the same said of one of them)
CATEGORIES = [("birds", "have feathers", "has feathers"),
              ("fish", "live in water", "lives in water"),
              ("cats", "like to sleep", "likes to sleep"),
              ("trees", "have roots", "has roots"),
              ("robots", "need power", "needs power"),
              ("dragons", "can breathe fire", "can breathe fire"),
              ("squares", "have four sides", "has four sides"),
              ("bakers", "make bread", "makes bread"),
              ("owls", "sleep in the day", "sleeps in the day"),
              ("sailors", "know the sea", "knows the sea")]


class World:
    """The fixed invented world shared by both splits."""

    def __init__(self, rng):
        used = set()

        def word(min_syl, max_syl):
            while True:
                n = rng.randint(min_syl, max_syl)
                w = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) +
                            (rng.choice(CODAS) if i == n - 1 else "")
                            for i in range(n))
                if 3 <= len(w) <= 10 and w not in used:
                    used.add(w)
                    return w.capitalize()

        self.countries = []
        for _ in range(160):
            c = {"name": word(2, 3) + rng.choice(["ia", "land", "ar", "stan",
                                                  "ora", "", "", ""]),
                 "capital": word(2, 3),
                 "cities": [word(2, 3) for _ in range(2)],
                 "river": word(2, 2),
                 "language": word(2, 2) + "ish",
                 "side": rng.choice(CONTINENT_WORDS),
                 "climate": rng.choice(CLIMATES),
                 "land": rng.sample(LANDS, 2),
                 "export": rng.choice(EXPORTS),
                 "population": rng.randint(1, 90)}
            self.countries.append(c)
        for country, capital in REAL_CAPITALS:
            self.countries.append({"name": country, "capital": capital,
                                   "real": True})
        self.names = [word(2, 3) for _ in range(400)]
        self.towns = [word(2, 3) for _ in range(200)]


# ------------------------------------------------------------ document kinds
def an(phrase):
    """The phrase with the right indefinite article in front."""
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def story(rng, w):
    a, b = rng.sample(w.names, 2)
    role_a, role_b = rng.choice(ROLES), rng.choice(ROLES)
    adj = rng.choice(ADJ_CHAR)
    place = rng.choice(PLACES)
    town = rng.choice(w.towns)
    obj = rng.choice(OBJECTS)
    spot = rng.choice(SPOTS)
    food = rng.choice(FOODS)
    s = []
    opening = rng.random()
    if opening < 0.55:
        s.append(f"Once upon a time, there was {an(adj + ' ' + role_a)} named {a}.")
    elif opening < 0.8:
        s.append(f"Once upon a time, in {an(place)} near {town}, "
                 f"there lived {an(adj + ' ' + role_a)} called {a}.")
    else:
        s.append(f"Long ago, {an(adj + ' ' + role_a)} named {a} lived in {an(place)}.")
    if opening < 0.55:
        s.append(f"{a} lived in {an(place)} near the town of {town}.")
    s.append(f"{a} had {an(obj)} and loved it very much.")
    if rng.random() < 0.5:
        s.append(rng.choice(WEATHER))
    plot = rng.randrange(4)
    if plot == 0:  # lost and found
        s.append(f"One day, {a} could not find the {obj}.")
        s.append(f"{a} felt {rng.choice(['sad', 'worried', 'scared'])}.")
        s.append(f"\"Where is my {obj}?\" asked {a}.")
        s.append(f"{an(rng.choice(ADJ_CHAR) + ' ' + role_b).capitalize()} named {b} came by.")
        s.append(f"\"I saw it {spot},\" said {b}.")
        s.append(f"{a} and {b} went to look {spot}.")
        s.append(f"There it was! {a} was so {rng.choice(['happy', 'thankful', 'excited'])}.")
        s.append(f"\"Thank you, {b},\" said {a}.")
    elif plot == 1:  # new friend and activity
        act = rng.choice(ACTIVITIES)
        s.append(f"One day, {a} met {an(role_b)} named {b}.")
        s.append(f"\"Hello, my name is {b},\" said the {role_b}. "
                 f"\"Do you want to {act} with me?\"")
        s.append(f"\"Yes, I would love to {act},\" said {a}.")
        s.append(f"So {a} and {b} went to {act} together.")
        s.append(f"They laughed and had a lot of fun.")
        s.append(f"When the sun went down, they shared some {food}.")
    elif plot == 2:  # a problem to solve
        n = rng.randint(2, 9)
        m = rng.randint(2, 9)
        s.append(f"One morning, {a} wanted to bake {food} for the whole {place}.")
        s.append(f"{a} had {n} baskets, but needed {n + m}.")
        s.append(f"\"How can I get {m} more baskets?\" {a} wondered.")
        s.append(f"{a} went to ask {b} the {role_b} for help.")
        s.append(f"\"Of course,\" said {b}. \"I have {m} baskets you can use.\"")
        s.append(f"Now {a} had {n} + {m} = {n + m} baskets, "
                 f"which was just enough.")
        s.append(f"Everyone ate the {food} and said it was the best they ever had.")
    else:  # journey
        dest = rng.choice(w.countries)
        s.append(f"One day, {a} decided to travel to {dest['capital']}, "
                 f"the capital of {dest['name']}.")
        s.append(f"{a} packed the {obj} and a little {food}.")
        s.append(f"On the way, {a} met {b}, {an(rng.choice(ADJ_CHAR) + ' ' + role_b)}.")
        s.append(f"\"Where are you going?\" asked {b}.")
        s.append(f"\"I am going to {dest['capital']},\" said {a}.")
        s.append(f"\"Then let us go together,\" said {b}.")
        s.append(f"After a long walk, they saw the city. "
                 f"{a} felt {rng.choice(FEELINGS)}.")
    s.append(rng.choice(ENDINGS).format(a=a, b=b, obj=obj, place=place,
                                        food=food))
    if rng.random() < 0.4:
        s.append("The end.")
    return " ".join(s)


def geography(rng, w):
    c = rng.choice(w.countries)
    s = []
    if c.get("real"):
        s.append(f"The capital of {c['name']} is {c['capital']}.")
        extra = REAL_EXTRA.get(c["name"], [])
        if extra:
            s.extend(rng.sample(extra, rng.randint(1, len(extra))))
        others = rng.sample([x for x in w.countries if x.get("real")], 2)
        for o in others:
            s.append(f"The capital of {o['name']} is {o['capital']}.")
        return " ".join(s)
    facts = [
        f"The capital of {c['name']} is {c['capital']}.",
        f"{c['name']} is {an(c['climate'])} country in the {c['side']} of the "
        f"continent, with many {c['land'][0]} and {c['land'][1]}.",
        f"The river {c['river']} flows through {c['capital']}.",
        f"People in {c['name']} speak {c['language']}.",
        f"Other cities in {c['name']} are {c['cities'][0]} and {c['cities'][1]}.",
        f"{c['name']} is famous for its {c['export']}.",
        f"About {c['population']} million people live in {c['name']}.",
    ]
    if rng.random() < 0.5:
        s.append(facts[0])
        s.extend(rng.sample(facts[1:], rng.randint(2, 5)))
    else:
        q = rng.random()
        if q < 0.5:
            s.append(f"Question: What is the capital of {c['name']}? "
                     f"Answer: The capital of {c['name']} is {c['capital']}.")
        else:
            s.append(f"{c['capital']} is the capital of {c['name']}.")
        s.extend(rng.sample(facts[1:], rng.randint(1, 3)))
    return " ".join(s)


def arithmetic(rng, w):
    kind = rng.randrange(4)
    if kind == 0:
        names = rng.choice([("x", "y"), ("a", "b"), ("m", "n"), ("p", "q")])
        u, v = rng.randint(0, 20), rng.randint(0, 20)
        op = rng.choice(["+", "-", "*"])
        val = u + v if op == "+" else u - v if op == "-" else u * v
        s = (f"Step-by-step reasoning: If {names[0]} = {u} and {names[1]} = {v}, "
             f"then {names[0]} {op} {names[1]} = {u} {op} {v} = {val}.")
        if rng.random() < 0.5:
            s += f" So the answer is {val}."
        return s
    if kind == 1:
        name = rng.choice(w.names)
        item = rng.choice(ITEMS)
        u, v = rng.randint(2, 30), rng.randint(1, 20)
        if rng.random() < 0.5:
            return (f"{name} has {u} {item}. {name} gets {v} more {item}. "
                    f"How many {item} does {name} have now? "
                    f"To solve this math problem, first we need to add {u} and {v}. "
                    f"{u} + {v} = {u + v}. So {name} has {u + v} {item}.")
        v = rng.randint(1, u)
        return (f"{name} has {u} {item}. {name} gives {v} {item} to a friend. "
                f"How many {item} are left? "
                f"To solve this math problem, first we need to subtract {v} from {u}. "
                f"{u} - {v} = {u - v}. So {name} has {u - v} {item} left.")
    if kind == 2:
        u, v, t = rng.randint(2, 9), rng.randint(2, 9), rng.randint(1, 9)
        item = rng.choice(ITEMS)
        return (f"There are {u} bags with {v} {item} in each bag, and {t} more "
                f"{item} on the table. How many {item} are there in total? "
                f"To solve this math problem, first we need to multiply {u} by {v}. "
                f"{u} * {v} = {u * v}. Then we add {t}. "
                f"{u * v} + {t} = {u * v + t}. The answer is {u * v + t}.")
    u, v, z = rng.randint(1, 12), rng.randint(1, 12), rng.randint(1, 12)
    return (f"Step-by-step reasoning: If x = {u}, y = {v} and z = {z}, "
            f"then x + y = {u + v}, and x + y + z = {u + v} + {z} = {u + v + z}.")


def expository(rng, w):
    field = rng.choice(list(FIELDS))
    f = FIELDS[field]
    s = [f"In the field of {field}, {f['who']} study {rng.choice(f['study'])}."]
    ideas = rng.sample(f["ideas"], min(len(f["ideas"]), rng.randint(1, 3)))
    for i, (thing, what) in enumerate(ideas):
        lead = ["One important idea is that", "For example,", "Also,",
                "It is known that"][min(i, 3) if i else rng.randint(0, 1)]
        s.append(f"{lead} {thing} {what}.")
    if rng.random() < 0.5:
        s.append(f"Many {f['who']} work at universities, and some work in "
                 f"{rng.choice(w.countries)['capital']}.")
    return " ".join(s)


def logic(rng, w):
    name = rng.choice(w.names)
    cat, prop, prop_one = rng.choice(CATEGORIES)
    if rng.random() < 0.5:
        return (f"Step-by-step reasoning: All {cat} {prop}. {name} is one of the "
                f"{cat}. So {name} {prop_one}.")
    start = rng.randint(1, 10)
    dur = rng.randint(1, 8)
    return (f"Step-by-step reasoning: {name} starts walking at {start} o'clock "
            f"and walks for {dur} hours. First we take the start time, {start}. "
            f"Then we add {dur}. {start} + {dur} = {start + dur}. "
            f"So {name} stops at {start + dur} o'clock.")


KINDS = [(story, 0.40), (geography, 0.18), (arithmetic, 0.17),
         (expository, 0.13), (logic, 0.12)]


def generate(rng, world, n_bytes):
    docs, size = [], 0
    fns, weights = zip(*KINDS)
    while size < n_bytes:
        doc = rng.choices(fns, weights)[0](rng, world)
        docs.append(doc)
        size += len(doc) + 1
    return "\n".join(docs) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--eval-dir", help="where eval.txt/prompts.txt go "
                    "(default: --out-dir)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--train-bytes", type=int, default=4_000_000)
    ap.add_argument("--eval-bytes", type=int, default=110_000)
    args = ap.parse_args()
    eval_dir = args.eval_dir or args.out_dir
    os.makedirs(args.out_dir, exist_ok=True)
    os.makedirs(eval_dir, exist_ok=True)
    world = World(random.Random(args.seed))
    # Separate streams: the eval split is held out (its documents are drawn
    # independently), but it talks about the same world.
    train = generate(random.Random(args.seed * 2 + 1), world, args.train_bytes)
    evals = generate(random.Random(args.seed * 2 + 2), world, args.eval_bytes)
    train_set = set(train.split("\n"))
    evals = "\n".join(d for d in evals.split("\n") if d and d not in train_set) + "\n"
    for path, text in [(os.path.join(args.out_dir, "train.txt"), train),
                       (os.path.join(eval_dir, "eval.txt"), evals),
                       (os.path.join(eval_dir, "prompts.txt"),
                        "\n".join(PROMPTS) + "\n")]:
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(text)
        os.replace(tmp, path)
        print(f"wrote {path}: {len(text)} bytes")


if __name__ == "__main__":
    main()
