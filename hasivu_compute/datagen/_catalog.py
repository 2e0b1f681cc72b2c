"""Fixed word lists behind the generated school-meals data (names, places, menu).

Kept apart from the generators so that the code reads as logic and the data as data.
All names are invented or common given/family names; no real person is described.
"""

from __future__ import annotations

# (state, district, weight): weight ~ how many of the platform's schools sit there.
DISTRICTS: tuple[tuple[str, str, float], ...] = (
    ("Karnataka", "Bengaluru Urban", 9.0),
    ("Karnataka", "Mysuru", 4.0),
    ("Karnataka", "Dakshina Kannada", 3.0),
    ("Karnataka", "Belagavi", 3.0),
    ("Karnataka", "Kalaburagi", 2.0),
    ("Karnataka", "Dharwad", 2.0),
    ("Tamil Nadu", "Chennai", 6.0),
    ("Tamil Nadu", "Coimbatore", 3.0),
    ("Tamil Nadu", "Madurai", 2.5),
    ("Tamil Nadu", "Tiruchirappalli", 1.5),
    ("Maharashtra", "Mumbai Suburban", 6.0),
    ("Maharashtra", "Pune", 4.5),
    ("Maharashtra", "Nagpur", 2.5),
    ("Maharashtra", "Nashik", 2.0),
    ("Telangana", "Hyderabad", 5.0),
    ("Telangana", "Warangal", 1.5),
    ("Andhra Pradesh", "Visakhapatnam", 2.5),
    ("Andhra Pradesh", "Guntur", 1.5),
    ("Kerala", "Ernakulam", 2.5),
    ("Kerala", "Thiruvananthapuram", 2.0),
    ("Gujarat", "Ahmedabad", 3.0),
    ("Gujarat", "Surat", 2.0),
    ("Rajasthan", "Jaipur", 2.5),
    ("Uttar Pradesh", "Lucknow", 2.5),
    ("Uttar Pradesh", "Varanasi", 1.5),
    ("Delhi", "New Delhi", 4.0),
    ("West Bengal", "Kolkata", 3.0),
    ("Odisha", "Bhubaneswar", 1.5),
)

SCHOOL_PREFIXES: tuple[str, ...] = (
    "Government",
    "Sri Saraswati",
    "St. Joseph's",
    "Kendriya Vidyalaya",
    "Vidya Niketan",
    "Little Flower",
    "National Public",
    "Sunrise",
    "Jnana Jyothi",
    "Sacred Heart",
    "Adarsha",
    "Green Valley",
)
SCHOOL_KINDS: tuple[str, ...] = ("Primary", "Higher Primary", "High", "Public", "Model")

FIRST_NAMES: tuple[str, ...] = (
    "Aarav", "Vivaan", "Aditya", "Arjun", "Sai", "Reyansh", "Krishna", "Ishaan", "Rohan", "Kabir",
    "Ananya", "Diya", "Aadhya", "Saanvi", "Ira", "Myra", "Kavya", "Meera", "Pooja", "Lakshmi",
    "Rahul", "Nikhil", "Karthik", "Manoj", "Suresh", "Divya", "Sneha", "Priya", "Nandini", "Asha",
    "Farhan", "Ayaan", "Zoya", "Sara", "Joseph", "Maria", "Harpreet", "Gurpreet", "Tenzin", "Anjali",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Sharma", "Rao", "Reddy", "Iyer", "Nair", "Patel", "Gowda", "Kumar", "Singh", "Das",
    "Shetty", "Hegde", "Naidu", "Pillai", "Menon", "Joshi", "Kulkarni", "Desai", "Khan", "Fernandes",
    "Banerjee", "Mukherjee", "Chatterjee", "Gupta", "Verma", "Mishra", "Yadav", "Bhat", "Kamath",
    "Acharya",
)  # fmt: skip
EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.org", "example.net", "mail.example.in")

# (category, name, is_vegetarian, low price, high price) in rupees.
MENU: tuple[tuple[str, str, bool, float, float], ...] = (
    ("breakfast", "Idli Sambar", True, 20, 35),
    ("breakfast", "Upma", True, 18, 30),
    ("breakfast", "Poha", True, 18, 30),
    ("breakfast", "Masala Dosa", True, 30, 45),
    ("breakfast", "Ven Pongal", True, 22, 35),
    ("breakfast", "Aloo Paratha", True, 30, 45),
    ("breakfast", "Medu Vada", True, 20, 30),
    ("breakfast", "Bread Omelette", False, 30, 45),
    ("lunch", "Veg Pulao", True, 40, 60),
    ("lunch", "Bisi Bele Bath", True, 40, 60),
    ("lunch", "Curd Rice", True, 35, 50),
    ("lunch", "Rajma Chawal", True, 45, 65),
    ("lunch", "Chapati Dal", True, 40, 55),
    ("lunch", "Lemon Rice", True, 35, 50),
    ("lunch", "Sambar Rice", True, 35, 55),
    ("lunch", "Veg Biryani", True, 55, 75),
    ("lunch", "Khichdi", True, 35, 50),
    ("lunch", "Chole Rice", True, 45, 65),
    ("lunch", "Egg Curry Rice", False, 55, 75),
    ("lunch", "Chicken Biryani", False, 70, 95),
    ("snack", "Samosa", True, 12, 20),
    ("snack", "Sundal", True, 10, 18),
    ("snack", "Veg Puff", True, 15, 25),
    ("snack", "Egg Puff", False, 18, 28),
    ("snack", "Fruit Bowl", True, 20, 35),
    ("snack", "Sprouts Chaat", True, 15, 25),
    ("snack", "Bhel Puri", True, 15, 25),
    ("beverage", "Milk", True, 10, 18),
    ("beverage", "Badam Milk", True, 18, 28),
    ("beverage", "Buttermilk", True, 8, 15),
    ("beverage", "Ragi Malt", True, 12, 20),
    ("beverage", "Sweet Lassi", True, 18, 28),
    ("beverage", "Fresh Lime Juice", True, 12, 20),
    ("dessert", "Kesari Bath", True, 15, 25),
    ("dessert", "Payasam", True, 18, 30),
    ("dessert", "Gulab Jamun", True, 15, 25),
    ("dessert", "Rava Ladoo", True, 10, 18),
    ("dessert", "Fruit Custard", True, 20, 30),
)

# Which menu categories a meal slot serves from, with the share of each.
SLOT_CATEGORIES: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = (
    ("breakfast", (("breakfast", 0.8), ("beverage", 0.2))),
    ("lunch", (("lunch", 0.88), ("dessert", 0.12))),
    ("snack", (("snack", 0.65), ("beverage", 0.35))),
)

NOTES: tuple[str, ...] = (
    "no onion no garlic",
    "less spicy please",
    "extra rice",
    "allergy: peanuts",
    "allergy: dairy",
    "deliver to class room",
    "jain meal",
    "pack separately",
    "birthday treat for class",
    "half portion",
)
