/* demo_catalog.c — see demo_catalog.h. Everything here is invented: brand
 * and model names, descriptions and reviews are generated from the word
 * lists below. */
#include "shop/demo_catalog.h"

#include "core/buf.h"
#include "core/log.h"
#include "db/catalog_repo.h"
#include "db/db.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Deterministic randomness                                             */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static int rnd(int n) { return n <= 0 ? 0 : (int)(rng_next() % (uint64_t)n); }              /* [0, n) */
static int rnd_between(int lo, int hi) { return lo + rnd(hi - lo + 1); }                    /* [lo, hi] */
static bool chance(int percent) { return rnd(100) < percent; }
#define PICK(arr) (arr)[rnd((int)(sizeof(arr) / sizeof *(arr)))]
#define COUNT(arr) ((int)(sizeof(arr) / sizeof *(arr)))

/* ------------------------------------------------------------------ */
/* Reference data                                                       */

enum kind { K_RUNNING, K_SNEAKERS, K_FORMAL, K_BOOTS, K_SANDALS, K_WALKING, K_SLIPPERS, K_FLATS, K_SCHOOL, K_KINDS };

static const struct kind_info {
    const char *slug, *name, *noun;
    int price_lo, price_hi;          /* pounds */
    const char *models[12];
    const char *suffixes[4];
    const char *materials[4];
    const char *tags[8];
    const char *uses[3];
    const char *colours[6];          /* colour slugs offered */
    int wide_percent, narrow_percent;
    bool half_sizes;
} kinds[K_KINDS] = {
    [K_RUNNING] = {"running", "Running", "running shoe", 65, 160,
                   {"Tempo", "Glide", "Aero", "Pulse", "Vapor", "Surge", "Zenith", "Nova", "Swift", "Apex", "Cadence", "Momentum"},
                   {"Runner", "Trainer", "Racer", "Trail"},
                   {"Engineered mesh upper, EVA foam midsole, carbon rubber outsole",
                    "Recycled knit upper, nitrogen-infused foam midsole, rubber outsole",
                    "Breathable mesh upper, dual-density midsole, blown rubber outsole",
                    "Ripstop upper, responsive foam midsole, lugged rubber outsole"},
                   {"running", "road", "cushioned", "breathable", "lightweight", "reflective", "neutral", "stability"},
                   {"daily training", "race day", "long weekend runs"},
                   {"black", "white", "grey", "navy", "red", "royal-blue"}, 20, 0, 1},
    [K_SNEAKERS] = {"sneakers", "Sneakers", "sneaker", 50, 120,
                    {"Court", "Metro", "Harbour", "Canvas", "Street", "Classic", "Retro", "Loft", "Avenue", "Union", "Echo", "Dash"},
                    {"Low", "Mid", "Lite", "Original"},
                    {"Full-grain leather upper, cushioned footbed, vulcanised rubber sole",
                     "Organic cotton canvas upper, cotton lining, natural rubber sole",
                     "Suede and leather upper, padded collar, cupsole",
                     "Recycled polyester upper, memory foam insole, rubber cupsole"},
                    {"sneakers", "casual", "everyday", "leather", "canvas", "vegan", "retro", "minimal"},
                    {"everyday wear", "weekends", "city walking"},
                    {"white", "black", "navy", "grey", "olive", "blush"}, 10, 0, 1},
    [K_FORMAL] = {"formal", "Formal", "formal shoe", 70, 220,
                  {"Oxford", "Derby", "Brogue", "Monk", "Loafer", "Chelsea", "Windsor", "Kensington", "Mayfair", "Savile", "Regent", "Belgrave"},
                  {"Classic", "Wingtip", "Cap Toe", "Plain Toe"},
                  {"Calf leather upper, leather lining, Goodyear-welted leather sole",
                   "Polished leather upper, leather lining, stitched rubber sole",
                   "Patent leather upper, leather insole, leather sole with rubber heel",
                   "Suede upper, leather lining, Blake-stitched leather sole"},
                  {"formal", "leather", "office", "wedding", "goodyear-welted", "smart", "classic", "polished"},
                  {"the office", "weddings", "evenings out"},
                  {"black", "brown", "tan", "burgundy", "navy", "black"}, 40, 25, 1},
    [K_BOOTS] = {"boots", "Boots", "boot", 85, 240,
                 {"Ridge", "Summit", "Fell", "Moor", "Ranger", "Highland", "Bramble", "Granite", "Cairn", "Hollow", "Drover", "Thornbury"},
                 {"Boot", "Chelsea Boot", "Hiker", "Chukka"},
                 {"Waterproof nubuck upper, breathable membrane, Vibram-style rubber sole",
                  "Oiled leather upper, shearling-lined collar, commando rubber sole",
                  "Suede upper, elasticated gussets, crepe rubber sole",
                  "Full-grain leather upper, Goodyear welt, lugged rubber sole"},
                 {"boots", "waterproof", "winter", "hiking", "leather", "chelsea", "grip", "warm"},
                 {"wet winter days", "country walks", "the commute"},
                 {"brown", "black", "tan", "olive", "burgundy", "grey"}, 30, 0, 0},
    [K_SANDALS] = {"sandals", "Sandals", "sandal", 20, 75,
                   {"Coast", "Lagoon", "Dune", "Riviera", "Breeze", "Cove", "Marina", "Palma", "Shore", "Tide", "Isla", "Bay"},
                   {"Slide", "Sandal", "Strap", "Flip"},
                   {"Leather straps, contoured cork footbed, EVA sole",
                    "Quick-dry webbing straps, moulded footbed, rubber sole",
                    "Vegan leather straps, memory foam footbed, lightweight sole",
                    "Recycled rubber straps, textured footbed, one-piece sole"},
                   {"sandals", "summer", "beach", "slide", "vegan", "waterproof", "adjustable", "lightweight"},
                   {"summer holidays", "the beach", "warm days"},
                   {"tan", "black", "white", "navy", "brown", "blush"}, 0, 0, 0},
    [K_WALKING] = {"walking", "Walking", "walking shoe", 60, 130,
                   {"Rambler", "Trek", "Meadow", "Wayfarer", "Pathway", "Heath", "Dales", "Stroll", "Downs", "Orchard", "Brook", "Valley"},
                   {"Walker", "Shoe", "GTX", "Comfort"},
                   {"Waterproof leather upper, supportive EVA midsole, grippy rubber outsole",
                    "Mesh and suede upper, shock-absorbing midsole, rubber outsole",
                    "Breathable textile upper, removable orthotic insole, rubber outsole",
                    "Nubuck upper, padded tongue, multi-directional lugged sole"},
                   {"walking", "comfort", "waterproof", "supportive", "wide-fit", "cushioned", "outdoor", "everyday"},
                   {"long walks", "all-day comfort", "weekend rambles"},
                   {"grey", "navy", "brown", "black", "olive", "tan"}, 60, 0, 1},
    [K_SLIPPERS] = {"slippers", "Slippers", "slipper", 18, 45,
                    {"Fireside", "Hearth", "Snug", "Cosy", "Nook", "Ember", "Cabin", "Lodge", "Hush", "Burrow", "Dozy", "Lazy"},
                    {"Moccasin", "Mule", "Slipper", "Bootie"},
                    {"Suede upper, sheepskin lining, flexible rubber sole",
                     "Knitted upper, memory foam footbed, non-slip sole",
                     "Faux-fur lined felt upper, cushioned insole, rubber sole",
                     "Corduroy upper, fleece lining, indoor-outdoor sole"},
                    {"slippers", "cosy", "indoor", "warm", "sheepskin", "gift", "memory-foam", "soft"},
                    {"lazy Sundays", "chilly evenings", "working from home"},
                    {"brown", "grey", "navy", "burgundy", "tan", "blush"}, 0, 0, 0},
    [K_FLATS] = {"flats", "Flats", "flat", 35, 95,
                 {"Ballet", "Pointe", "Grace", "Poppy", "Juniper", "Willow", "Iris", "Clover", "Hazel", "Ivy", "Rosa", "Luna"},
                 {"Flat", "Ballerina", "Loafer", "Pump"},
                 {"Soft nappa leather upper, leather lining, flexible rubber sole",
                  "Suede upper, padded insole, thin rubber sole",
                  "Recycled knit upper, cushioned footbed, foldable sole",
                  "Patent leather upper, leather lining, stacked heel"},
                 {"flats", "ballet", "office", "comfort", "leather", "foldable", "smart", "classic"},
                 {"the office", "summer evenings", "everyday wear"},
                 {"black", "blush", "navy", "tan", "red", "burgundy"}, 0, 30, 1},
    [K_SCHOOL] = {"school", "School", "school shoe", 30, 55,
                  {"Scholar", "Campus", "Recess", "Monitor", "Prefect", "Satchel", "Term", "Quad", "Class", "Hall", "Library", "Chapel"},
                  {"Strap", "Lace-Up", "T-Bar", "Brogue"},
                  {"Scuff-resistant leather upper, padded collar, durable rubber sole",
                   "Polished leather upper, touch-fastening strap, rubber sole",
                   "Hard-wearing leather upper, toe bumper, non-marking sole",
                   "Leather upper, breathable lining, flexible rubber sole"},
                  {"school", "leather", "durable", "scuff-resistant", "easy-fasten", "kids", "black", "smart"},
                  {"the school run", "the whole term", "playground adventures"},
                  {"black", "navy", "brown", "black", "black", "brown"}, 30, 0, 0},
};

/* The category tree: top level × leaf kinds, products per leaf. */
static const struct top_info {
    const char *slug, *name, *gender;
    enum kind leaves[8];
    int nleaves, per_leaf;
    int size_lo10, size_hi10;         /* UK sizes × 10 */
} tops[] = {
    {"men", "Men", "men", {K_RUNNING, K_SNEAKERS, K_FORMAL, K_BOOTS, K_SANDALS, K_WALKING, K_SLIPPERS}, 7, 15, 60, 130},
    {"women", "Women", "women", {K_RUNNING, K_SNEAKERS, K_FORMAL, K_BOOTS, K_SANDALS, K_FLATS}, 6, 15, 30, 90},
    {"kids", "Kids", "kids", {K_SNEAKERS, K_SCHOOL, K_RUNNING, K_SANDALS, K_BOOTS}, 5, 10, 10, 60},
};

static const struct brand_info {
    const char *slug, *name, *code;
    unsigned kinds;                   /* bit per enum kind */
    int audience;                     /* 0 adults only, 1 adults and kids, 2 kids only */
} brands[] = {
    {"stridewell", "Stridewell", "STW", 1u << K_RUNNING | 1u << K_WALKING | 1u << K_SNEAKERS, 1},
    {"northpeak", "Northpeak", "NPK", 1u << K_BOOTS | 1u << K_WALKING, 1},
    {"velocita", "Velocita", "VEL", 1u << K_RUNNING | 1u << K_SNEAKERS, 0},
    {"cobble-co", "Cobble & Co", "CBL", 1u << K_FORMAL | 1u << K_BOOTS | 1u << K_SCHOOL, 1},
    {"harbour-lane", "Harbour Lane", "HBL", 1u << K_SNEAKERS | 1u << K_SANDALS | 1u << K_FLATS, 0},
    {"kestrel", "Kestrel", "KES", 1u << K_RUNNING | 1u << K_SNEAKERS | 1u << K_WALKING, 1},
    {"oakmoor", "Oakmoor", "OAK", 1u << K_BOOTS | 1u << K_FORMAL | 1u << K_SLIPPERS, 0},
    {"tidewater", "Tidewater", "TDW", 1u << K_SANDALS | 1u << K_SLIPPERS | 1u << K_FLATS, 1},
    {"marlowe", "Marlowe", "MRL", 1u << K_FORMAL | 1u << K_FLATS | 1u << K_BOOTS, 0},
    {"pace-republic", "Pace Republic", "PCR", 1u << K_SNEAKERS | 1u << K_RUNNING, 1},
    {"little-explorer", "Little Explorer", "LEX", 1u << K_SNEAKERS | 1u << K_SCHOOL | 1u << K_SANDALS | 1u << K_BOOTS | 1u << K_RUNNING, 2},
    {"fernhill", "Fernhill", "FRN", 1u << K_WALKING | 1u << K_SLIPPERS | 1u << K_SCHOOL | 1u << K_SANDALS, 1},
};

static const struct colour_info {
    const char *slug, *name, *hex, *code;
} colours[] = {
    {"black", "Black", "#1f1f1f", "BLK"},      {"white", "White", "#f4f4f2", "WHT"},
    {"grey", "Grey", "#8a8d91", "GRY"},        {"navy", "Navy", "#1f2a44", "NVY"},
    {"royal-blue", "Royal Blue", "#2b59c3", "RBL"}, {"red", "Red", "#c0392b", "RED"},
    {"burgundy", "Burgundy", "#7b1e3a", "BUR"}, {"blush", "Blush Pink", "#e8b4b8", "BLS"},
    {"tan", "Tan", "#c19a6b", "TAN"},          {"brown", "Brown", "#6b4226", "BRN"},
    {"olive", "Olive", "#6b7a3a", "OLV"},
};

static const char *const adjectives[] = {"lightweight", "hard-wearing", "beautifully made", "versatile", "comfortable",
                                         "supportive", "timeless", "modern"};
static const char *const features[] = {
    "A padded collar and tongue keep the fit secure without pressure points.",
    "The removable insole makes room for your own orthotics.",
    "Reinforced stitching at the toe and heel adds years of wear.",
    "A pull tab at the heel makes it quick to slip on and off.",
    "The outsole pattern grips on wet pavements as well as dry ones.",
    "A cushioned footbed softens every step from morning to night.",
    "Breathable lining keeps feet cool and dry.",
    "It is resoleable, so a favourite pair can last for years.",
};
static const char *const fits[] = {"Fits true to size.", "Runs slightly small: if you are between sizes, go up half a size.",
                                   "Roomy in the toe box; narrow feet may prefer half a size down.",
                                   "Fits true to size with a snug heel."};

static const char *const first_names[] = {"Sarah", "James", "Priya", "Tom", "Aisha", "Daniel", "Emma", "Oliver", "Chloe",
                                          "Mohammed", "Grace", "Liam", "Sophie", "Ravi", "Hannah", "Jack", "Zoe",
                                          "Ben", "Amelia", "Kwame", "Isla", "Noah", "Freya", "Leo"};
static const char *const initials = "ABCDEFGHJKLMNPRSTW";

static const struct { const char *title, *body; } review_text[5][4] = {
    {{"Disappointed", "Fell apart after a few weeks of light use. The stitching came undone near the toe."},
     {"Not for me", "Uncomfortable from the first day and the sizing was way off. Sent them back."},
     {"Poor quality", "The sole started peeling within a month. Expected much better at this price."},
     {"Would not buy again", "Rubbed my heel raw on the first walk and never really softened up."}},
    {{"Okay at best", "They look nice but pinch across the toes. Might stretch with time."},
     {"Mixed feelings", "Comfortable enough, but the colour was darker than in the photos."},
     {"Sizing issues", "Had to exchange twice to get the right fit. Quality is fine."},
     {"Average", "Does the job but nothing special. Grip is poor in the wet."}},
    {{"Decent pair", "Comfortable for everyday use, though the insole is a little thin."},
     {"Good value", "Not the most stylish but solid for the price."},
     {"Fine for the price", "A bit stiff at first but getting better with each wear."},
     {"Does what it says", "Nothing wrong with them, nothing amazing either."}},
    {{"Really comfortable", "Great fit straight out of the box and they have kept their shape well."},
     {"Very happy", "Smart looking and comfortable. Took a few days to break in."},
     {"Great shoes", "Lovely quality and they go with everything. Would buy another colour."},
     {"Recommended", "Good support and the sizing was spot on."}},
    {{"Best pair I own", "Incredibly comfortable from day one. I have already ordered a second pair."},
     {"Perfect fit", "Exactly as described, fits perfectly and looks even better in person."},
     {"Love them", "Light, comfortable and stylish. Wore them all day with no aches at all."},
     {"Outstanding quality", "You can feel the quality in the materials and stitching. Worth every penny."}},
};

/* ------------------------------------------------------------------ */
/* Generation                                                           */

static void slugify(const char *in, char *out, size_t outlen)
{
    size_t o = 0;
    bool dash = false;
    for (const char *p = in; *p && o + 2 < outlen; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && o) out[o++] = '-';
            out[o++] = c;
            dash = false;
        } else {
            dash = true;
        }
    }
    out[o] = '\0';
}

static int colour_index(const char *slug)
{
    for (int i = 0; i < COUNT(colours); i++)
        if (!strcmp(colours[i].slug, slug)) return i;
    return 0;
}

/* A price in pence within [lo, hi] pounds ending .99 or .00. */
static int64_t demo_price(int lo, int hi)
{
    int pounds = rnd_between(lo, hi);
    pounds = pounds / 5 * 5 + 5;
    return chance(70) ? (int64_t)pounds * 100 - 1 : (int64_t)pounds * 100;
}

static int pick_brand(enum kind k, bool kids)
{
    int candidates[COUNT(brands)], n = 0;
    for (int i = 0; i < COUNT(brands); i++)
        if ((brands[i].kinds & (1u << k)) && (kids ? brands[i].audience > 0 : brands[i].audience < 2)) candidates[n++] = i;
    return n ? candidates[rnd(n)] : 0;
}

static int64_t cat_ids[3][8], top_ids[3], brand_ids[COUNT(brands)], colour_ids[COUNT(colours)];

static int insert_reference_data(db_conn *c, demo_counts *counts)
{
    for (int i = 0; i < COUNT(brands); i++) {
        if ((brand_ids[i] = repo_insert_brand(c, brands[i].slug, brands[i].name)) < 0) return -1;
        counts->brands++;
    }
    for (int i = 0; i < COUNT(colours); i++) {
        if ((colour_ids[i] = repo_insert_colour(c, colours[i].slug, colours[i].name, colours[i].hex, i + 1)) < 0) return -1;
        counts->colours++;
    }
    for (int t = 0; t < COUNT(tops); t++) {
        if ((top_ids[t] = repo_insert_category(c, 0, tops[t].slug, tops[t].name, t + 1)) < 0) return -1;
        counts->categories++;
        for (int l = 0; l < tops[t].nleaves; l++) {
            char slug[64];
            snprintf(slug, sizeof slug, "%s-%s", tops[t].slug, kinds[tops[t].leaves[l]].slug);
            if ((cat_ids[t][l] = repo_insert_category(c, top_ids[t], slug, kinds[tops[t].leaves[l]].name, l + 1)) < 0)
                return -1;
            counts->categories++;
        }
    }
    return 0;
}

static int insert_reviews(db_conn *c, int64_t product_id, const char *product_name, int64_t product_age, demo_counts *counts)
{
    int n = rnd(100) < 12 ? 0 : rnd_between(1, 6);
    int bias = rnd_between(0, 2);   /* some products are simply better liked */
    int extra = chance(25) ? 1 : 0;   /* one review still to moderate (pending or rejected) */
    for (int r = 0; r < n + extra; r++) {
        int roll = rnd(100) + bias * 8, rating = roll < 7 ? 1 : roll < 15 ? 2 : roll < 30 ? 3 : roll < 62 ? 4 : 5;
        int variant = rnd(4);
        char author[64], title[160];
        snprintf(author, sizeof author, "%s %c.", PICK(first_names), initials[rnd((int)strlen(initials))]);
        snprintf(title, sizeof title, "%s", review_text[rating - 1][variant].title);
        /* verified only where this generated reviewer bought the product */
        bool bought = chance(60);
        buf body = BUF_INIT;
        buf_puts(&body, review_text[rating - 1][variant].body);
        if (bought && chance(50)) buf_printf(&body, " I bought the %s for %s.", product_name, PICK(((const char *[]){"work", "holidays", "my daily walk", "a wedding", "the gym", "weekends"})));
        /* The extra review beyond n is a moderation example: pending or rejected. */
        const char *status = r < n ? "approved" : chance(70) ? "pending" : "rejected";
        /* written after the product went on sale */
        int64_t age = (int64_t)rnd(400) * 86400 + rnd(86400);
        age = product_age > 3600 ? age % product_age : 0;
        int rc = repo_insert_review_seed(c, product_id, rating, title, buf_cstr(&body), author, bought, status, age);
        buf_free(&body);
        if (rc < 0) return -1;
        counts->reviews++;
    }
    return 0;
}

static int insert_product(db_conn *conn, int t, int l, int index, int total_index, char (*slugs)[128], demo_counts *counts)
{
    const struct top_info *top = &tops[t];
    enum kind k = top->leaves[l];
    const struct kind_info *ki = &kinds[k];
    bool kids = !strcmp(top->gender, "kids");
    int b = pick_brand(k, kids);

    char name[160], slug[128], base[200];
    snprintf(name, sizeof name, "%s %s%s", ki->models[(index + rnd(3)) % 12], ki->suffixes[rnd(4)],
             chance(30) ? (chance(50) ? " 2" : " 3") : "");
    snprintf(base, sizeof base, "%s %s %s", brands[b].name, name, top->gender);
    slugify(base, slug, sizeof slug);
    for (int dup = 2;; dup++) {
        bool clash = false;
        for (int i = 0; i < total_index && !clash; i++) clash = !strcmp(slugs[i], slug);
        if (!clash) break;
        char more[220];
        snprintf(more, sizeof more, "%s %d", base, dup);
        slugify(more, slug, sizeof slug);
    }
    snprintf(slugs[total_index], 128, "%s", slug);

    /* colours: 1-3 distinct from the kind's palette (blush only for women/kids) */
    int ncol = rnd_between(1, 3), cols[3], nc = 0;
    for (int tries = 0; nc < ncol && tries < 20; tries++) {
        int ci = colour_index(ki->colours[rnd(6)]);
        if (!strcmp(colours[ci].slug, "blush") && !strcmp(top->gender, "men")) continue;
        bool seen = false;
        for (int i = 0; i < nc; i++) seen = seen || cols[i] == ci;
        if (!seen) cols[nc++] = ci;
    }

    char tags[256] = "";
    int ntags = rnd_between(3, 5), used = 0;
    for (int i = 0; i < 8 && used < ntags; i++) {
        if (i > 0 && !chance(60)) continue;
        size_t len = strlen(tags);
        snprintf(tags + len, sizeof tags - len, "%s%s", used ? "," : "", ki->tags[i]);
        used++;
    }
    if (kids) strncat(tags, ",kids", sizeof tags - strlen(tags) - 1);

    const char *material = ki->materials[rnd(4)];
    buf desc = BUF_INIT;
    buf_printf(&desc, "The %s %s is a %s %s made for %s. %s. %s %s", brands[b].name, name, PICK(adjectives), ki->noun,
               ki->uses[rnd(3)], material, PICK(features), PICK(fits));

    int lo = ki->price_lo, hi = ki->price_hi;
    if (kids) { lo = lo * 35 / 100 + 10; hi = hi * 35 / 100 + 10; }
    repo_new_product np = {
        .slug = slug, .name = name, .description = buf_cstr(&desc), .currency = "GBP", .gender = top->gender,
        .material = material, .tags = tags, .brand_id = brand_ids[b], .category_id = cat_ids[t][l],
        .price = demo_price(lo, hi), .compare_at = -1, .featured = total_index % 15 == 4,
    };
    if (chance(20)) {   /* on sale: "was" 20-50 % more, a round figure */
        int64_t was = np.price * rnd_between(120, 150) / 100;
        np.compare_at = (was / 500 + 1) * 500;
    }
    double pop = (double)rnd(1000) / 1000.0;
    np.popularity = (int64_t)(pop * pop * pop * 5000) + rnd(50);
    np.age_seconds = (int64_t)((total_index * 7919) % 540) * 86400 + rnd(86400);

    int64_t pid = repo_insert_product(conn, &np);
    buf_free(&desc);
    if (pid < 0) return -1;
    counts->products++;

    /* sizes and widths */
    bool all_sold_out = total_index % 80 == 17;
    int step = ki->half_sizes && chance(75) ? 5 : 10;
    int size_lo = top->size_lo10 + (chance(40) ? 10 : 0), size_hi = top->size_hi10 - (chance(40) ? 10 : 0);
    const char *widths[3] = {"Standard", NULL, NULL};
    int nwidths = 1;
    if (chance(ki->wide_percent)) widths[nwidths++] = "Wide";
    if (!strcmp(top->gender, "women") && chance(ki->narrow_percent)) widths[nwidths++] = "Narrow";

    for (int c = 0; c < nc; c++) {
        const struct colour_info *co = &colours[cols[c]];
        char url[256], alt[256];
        snprintf(url, sizeof url, "/media/products/%s-%s.svg", slug, co->slug);
        snprintf(alt, sizeof alt, "%s %s in %s", brands[b].name, name, co->name);
        if (repo_insert_image(conn, pid, colour_ids[cols[c]], url, alt, c) < 0) return -1;
        counts->images++;
        for (int w = 0; w < nwidths; w++) {
            for (int s10 = size_lo; s10 <= size_hi; s10 += step) {
                int mid = (size_lo + size_hi) / 2, dist = abs(s10 - mid) / 10;
                int roll = rnd(100), stock;
                if (all_sold_out || roll < 9 + dist * 2) stock = 0;
                else if (roll < 22 + dist * 2) stock = rnd_between(1, 3);
                else stock = rnd_between(4, 30 - dist * 3 > 6 ? 30 - dist * 3 : 6) / (w ? 2 : 1) + (w ? 1 : 0);
                char sku[64], label[16];
                snprintf(sku, sizeof sku, "%s-%04d-%s-%03d-%c", brands[b].code, total_index + 1, co->code, s10,
                         widths[w][0]);
                if (s10 % 10) snprintf(label, sizeof label, "UK %d.5", s10 / 10);
                else snprintf(label, sizeof label, "UK %d", s10 / 10);
                if (repo_insert_variant(conn, pid, colour_ids[cols[c]], sku, "UK", s10 / 10.0, label, widths[w], stock) < 0)
                    return -1;
                counts->variants++;
            }
        }
    }
    return insert_reviews(conn, pid, name, np.age_seconds, counts);
}

int demo_catalog_insert(db_conn *c, demo_counts *counts, demo_progress_fn progress)
{
    memset(counts, 0, sizeof *counts);
    rng_state = 0x5ca1ab1e0ddba11ULL;   /* fixed: the same catalogue every time */
    if (insert_reference_data(c, counts) < 0) return -1;
    int total = 0;
    for (int t = 0; t < COUNT(tops); t++) total += tops[t].nleaves * tops[t].per_leaf;
    char (*slugs)[128] = calloc((size_t)total, sizeof *slugs);
    if (!slugs) return -1;
    int done = 0, rc = 0;
    /* Interleave leaves so that neighbouring products differ (created_at
     * spreads by index). */
    for (int i = 0; rc == 0 && i < 15; i++)
        for (int t = 0; rc == 0 && t < COUNT(tops); t++)
            for (int l = 0; rc == 0 && l < tops[t].nleaves; l++) {
                if (i >= tops[t].per_leaf) continue;
                rc = insert_product(c, t, l, i, done, slugs, counts);
                done++;
                if (progress) progress(done, total);
            }
    free(slugs);
    if (rc == 0) rc = repo_recompute_all_ratings(c);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Images                                                               */

static void hex_rgb(const char *hex, int *r, int *g, int *b)
{
    unsigned v = 0x8a8d91;
    if (hex && hex[0] == '#' && strlen(hex) == 7) v = (unsigned)strtoul(hex + 1, NULL, 16);
    *r = (int)(v >> 16) & 255;
    *g = (int)(v >> 8) & 255;
    *b = (int)v & 255;
}

static void shade(const char *hex, double f, char out[8])
{
    int r, g, b;
    hex_rgb(hex, &r, &g, &b);
    r = (int)fmin(255, fmax(0, r * f));
    g = (int)fmin(255, fmax(0, g * f));
    b = (int)fmin(255, fmax(0, b * f));
    snprintf(out, 8, "#%02x%02x%02x", (unsigned)r & 255u, (unsigned)g & 255u, (unsigned)b & 255u);
}

char *demo_image_svg(const char *brand_name, const char *category_slug, const char *hex)
{
    int r, g, b;
    hex_rgb(hex, &r, &g, &b);
    char fill[8], dark[8], light[8];
    snprintf(fill, sizeof fill, "#%02x%02x%02x", (unsigned)r & 255u, (unsigned)g & 255u, (unsigned)b & 255u);
    double lum = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255.0;
    shade(fill, 0.72, dark);
    shade(fill, 1.25, light);
    const char *sole = lum > 0.55 ? "#3b3b3b" : "#fdfcfa", *detail = lum > 0.55 ? "#4a4a4a" : "#fbfaf7";
    char initial = 'S';
    if (brand_name && brand_name[0]) initial = brand_name[0];
    if (!((initial >= 'A' && initial <= 'Z') || (initial >= 'a' && initial <= 'z'))) initial = 'S';

    const char *slug = category_slug ? category_slug : "";
    const char *dash = strrchr(slug, '-');
    const char *kind = dash ? dash + 1 : slug;

    buf s = BUF_INIT;
    buf_printf(&s, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 400 300\" width=\"400\" height=\"300\">\n"
                   "<rect width=\"400\" height=\"300\" rx=\"24\" fill=\"#ebe7df\"/>\n"
                   "<ellipse cx=\"205\" cy=\"252\" rx=\"170\" ry=\"12\" fill=\"#000\" opacity=\"0.08\"/>\n");
    int bx = 120, by = 185;
    if (!strcmp(kind, "boots")) {
        buf_printf(&s, "<path d=\"M52 222 L56 236 Q60 246 80 246 L344 246 Q372 246 372 228 L370 216 Z\" fill=\"%s\"/>\n", sole);
        buf_printf(&s, "<path d=\"M58 218 L70 72 Q72 56 92 56 L172 56 Q188 56 188 74 L192 146 Q246 156 312 170 "
                       "Q364 182 368 218 Z\" fill=\"%s\"/>\n", fill);
        buf_printf(&s, "<path d=\"M70 72 L172 72\" stroke=\"%s\" stroke-width=\"6\" fill=\"none\"/>\n", dark);
        buf_printf(&s, "<path d=\"M150 90 L150 170 M120 96 Q150 130 180 96\" stroke=\"%s\" stroke-width=\"4\" fill=\"none\" "
                       "opacity=\"0.6\"/>\n", dark);
        for (int x = 70; x < 360; x += 24)
            buf_printf(&s, "<rect x=\"%d\" y=\"238\" width=\"12\" height=\"8\" fill=\"%s\" opacity=\"0.5\"/>\n", x, dark);
        bx = 110; by = 160;
    } else if (!strcmp(kind, "formal") || !strcmp(kind, "school") || !strcmp(kind, "flats")) {
        bool flats = !strcmp(kind, "flats");
        buf_printf(&s, "<path d=\"M40 222 L360 222 Q378 222 376 210 L372 204 L40 204 Z\" fill=\"%s\"/>\n", dark);
        if (!flats) buf_printf(&s, "<path d=\"M42 204 L42 236 L100 236 L100 208 Z\" fill=\"%s\"/>\n", dark);
        buf_printf(&s, "<path d=\"M46 204 L56 %d Q60 146 86 146 L160 144 Q202 150 242 168 Q318 180 358 190 "
                       "Q378 196 372 204 Z\" fill=\"%s\"/>\n", flats ? 170 : 158, fill);
        buf_printf(&s, "<path d=\"M64 156 Q120 176 170 152\" stroke=\"%s\" stroke-width=\"5\" fill=\"none\"/>\n", dark);
        if (!strcmp(kind, "school"))
            buf_printf(&s, "<path d=\"M140 150 L200 172\" stroke=\"%s\" stroke-width=\"12\"/>\n", dark);
        else if (!flats)
            buf_printf(&s, "<path d=\"M180 156 L200 166 M188 150 L208 160 M196 146 L216 156\" stroke=\"%s\" "
                           "stroke-width=\"3\"/>\n", detail);
        buf_printf(&s, "<path d=\"M250 172 Q300 178 352 192\" stroke=\"%s\" stroke-width=\"2\" fill=\"none\" "
                       "stroke-dasharray=\"4 4\"/>\n", light);
        bx = 100; by = 182;
    } else if (!strcmp(kind, "sandals")) {
        buf_printf(&s, "<path d=\"M40 226 Q40 242 70 242 L340 242 Q374 240 372 222 Q370 208 340 208 L70 208 Q40 208 40 226 Z\" "
                       "fill=\"%s\"/>\n", sole);
        buf_printf(&s, "<path d=\"M52 214 L360 214\" stroke=\"%s\" stroke-width=\"8\"/>\n", dark);
        buf_printf(&s, "<path d=\"M96 210 Q124 146 172 146 Q204 146 210 210\" stroke=\"%s\" stroke-width=\"22\" fill=\"none\" "
                       "stroke-linecap=\"round\"/>\n", fill);
        buf_printf(&s, "<path d=\"M238 210 Q272 160 326 200\" stroke=\"%s\" stroke-width=\"20\" fill=\"none\" "
                       "stroke-linecap=\"round\"/>\n", fill);
        bx = 152; by = 160;
    } else if (!strcmp(kind, "slippers")) {
        buf_printf(&s, "<path d=\"M44 222 Q44 240 74 240 L336 240 Q370 238 368 220 L366 210 L44 210 Z\" fill=\"%s\"/>\n", sole);
        buf_printf(&s, "<path d=\"M50 212 Q50 150 110 144 L200 140 Q300 142 350 180 Q370 196 366 212 Z\" fill=\"%s\"/>\n", fill);
        buf_printf(&s, "<path d=\"M62 150 Q130 128 200 142\" stroke=\"%s\" stroke-width=\"14\" fill=\"none\" "
                       "stroke-linecap=\"round\"/>\n", light);
        bx = 130; by = 182;
    } else {   /* running, sneakers, walking and anything new */
        bool running = !strcmp(kind, "running");
        buf_printf(&s, "<path d=\"M40 214 Q40 242 72 244 L348 244 Q376 242 374 222 L370 208 L40 208 Z\" fill=\"%s\"/>\n", sole);
        if (running)
            buf_printf(&s, "<path d=\"M44 222 L372 222\" stroke=\"%s\" stroke-width=\"6\"/>\n", light);
        buf_printf(&s, "<path d=\"M48 210 L60 150 Q66 126 92 124 L150 120 Q176 118 192 138 L216 158 Q262 168 322 176 "
                       "Q362 184 370 210 Z\" fill=\"%s\"/>\n", fill);
        buf_printf(&s, "<path d=\"M72 132 Q112 116 152 122\" stroke=\"%s\" stroke-width=\"8\" fill=\"none\" "
                       "stroke-linecap=\"round\"/>\n", dark);
        for (int i = 0; i < 4; i++)
            buf_printf(&s, "<path d=\"M%d %d L%d %d\" stroke=\"%s\" stroke-width=\"4\" stroke-linecap=\"round\"/>\n",
                       172 + i * 14, 138 + i * 7, 186 + i * 14, 128 + i * 7, detail);
        if (running)
            buf_printf(&s, "<path d=\"M150 196 Q220 150 330 186\" stroke=\"%s\" stroke-width=\"10\" fill=\"none\" "
                           "stroke-linecap=\"round\"/>\n", light);
        else
            buf_printf(&s, "<path d=\"M300 182 Q340 188 362 204\" stroke=\"%s\" stroke-width=\"6\" fill=\"none\"/>\n", dark);
    }
    buf_printf(&s, "<circle cx=\"%d\" cy=\"%d\" r=\"18\" fill=\"#ffffff\" opacity=\"0.88\"/>\n"
                   "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-family=\"Helvetica, Arial, sans-serif\" "
                   "font-size=\"20\" font-weight=\"700\" fill=\"%s\">%c</text>\n</svg>\n",
               bx, by, bx, by + 7, lum > 0.8 ? "#333333" : fill, initial);
    return buf_detach(&s);
}

static int mkdir_p(const char *path)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

struct image_job {
    const char *dir;
    bool only_missing;
    int written, failed;
};

static void write_one(void *ctx, const char *url, const char *brand_name, const char *category_slug, const char *hex)
{
    struct image_job *job = ctx;
    static const char prefix[] = "/media/products/";
    const char *file = url + sizeof prefix - 1;
    size_t len = strlen(file);
    /* Only plain names we generate: [a-z0-9-]+.svg (never a path). */
    if (len < 5 || len > 200 || strcmp(file + len - 4, ".svg") != 0) return;
    for (size_t i = 0; i < len - 4; i++)
        if (!((file[i] >= 'a' && file[i] <= 'z') || (file[i] >= '0' && file[i] <= '9') || file[i] == '-')) return;
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", job->dir, file);
    if (job->only_missing && access(path, F_OK) == 0) return;
    char *svg = demo_image_svg(brand_name, category_slug, hex);
    char tmp[1500];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fputs(svg, f) >= 0;
    if (f && fclose(f) != 0) ok = false;
    if (ok && rename(tmp, path) == 0) job->written++;
    else {
        if (f) unlink(tmp);
        if (job->failed++ == 0) log_error("seed: cannot write %s: %s", path, strerror(errno));
    }
    free(svg);
}

int demo_images_write(const char *media_dir, bool only_missing, int *written)
{
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/products", media_dir);
    *written = 0;
    if (mkdir_p(dir) < 0) {
        log_error("seed: cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    struct image_job job = {dir, only_missing, 0, 0};
    if (repo_each_product_image(write_one, &job) < 0) return -1;
    *written = job.written;
    return job.failed ? -1 : 0;
}
