-- Activity catalog: the activities a LinkUp brief and a profile's activity_patterns refer to by key, with
-- the lower-case aliases the SMS parser matches ("coffee sat morning?", interview step activity_01).
-- This is product data, identical in every environment, so it is seeded here (not in deploy/seed/).
-- Managed by migrations; conversation-router and linkup-matcher read it.

create table if not exists public.activities (
  key text primary key check (key ~ '^[a-z][a-z0-9_]*$'),
  display_name text not null,
  aliases text[] not null default '{}',
  category text not null,
  typical_windows text[] not null default '{}',
  default_constraints jsonb not null default '{}',
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- additions
  constraint activities_aliases_lower_case check (array_to_string(aliases, '|') = lower(array_to_string(aliases, '|'))),
  constraint activities_windows_known check (typical_windows <@ array['morning','day','evening','weekend']::text[]),
  constraint activities_category_format check (category ~ '^[a-z][a-z_]*$'),
  constraint activities_default_constraints_is_object check (jsonb_typeof(default_constraints) = 'object')
);

-- "Which activity does this word name?": where aliases @> array[$1]
create index if not exists activities_aliases_gin on public.activities using gin (aliases);

create or replace trigger set_updated_at before update on public.activities
  for each row execute function public.set_updated_at();

-- An alias must name one activity only, or parsing "games" would be ambiguous. (Catalog writes are rare
-- and made by migrations/ops, so a trigger check is enough; it is not meant to survive concurrent writers.)
create or replace function public.activities_alias_unique()
returns trigger language plpgsql as $$
declare
  clash text;
begin
  select a.key into clash
  from public.activities a
  where a.key <> new.key and a.aliases && new.aliases
  limit 1;
  if clash is not null then
    raise exception 'activity % shares an alias with activity %', new.key, clash
      using errcode = 'unique_violation';
  end if;
  return new;
end $$;

create or replace trigger activities_alias_unique before insert or update on public.activities
  for each row execute function public.activities_alias_unique();

-- Seed. Windows: morning, day, evening, weekend. default_constraints: indoor/outdoor, physical intensity
-- (low|medium|high), whether alcohol is usually involved, and tags that profile boundaries
-- ("no_thanks": ["bars", "late_night"]) can exclude.
insert into public.activities (key, display_name, aliases, category, typical_windows, default_constraints) values
  ('coffee', 'Coffee',
    array['coffee', 'cafe', 'café', 'latte', 'espresso', 'cappuccino', 'coffee shop', 'tea'],
    'food_drink', array['morning', 'day', 'weekend'],
    '{"indoor": true, "quiet": true, "intensity": "low", "alcohol": false}'),
  ('walk', 'Walk',
    array['walk', 'walking', 'a walk', 'stroll', 'walk and talk'],
    'outdoors', array['morning', 'day', 'evening', 'weekend'],
    '{"outdoor": true, "intensity": "low", "alcohol": false}'),
  ('hike', 'Hike',
    array['hike', 'hiking', 'hikes', 'trail', 'trails'],
    'outdoors', array['morning', 'weekend'],
    '{"outdoor": true, "intensity": "medium", "alcohol": false}'),
  ('brunch', 'Brunch',
    array['brunch', 'breakfast', 'pancakes'],
    'food_drink', array['morning', 'weekend'],
    '{"indoor": true, "intensity": "low"}'),
  ('lunch', 'Lunch',
    array['lunch', 'lunch break'],
    'food_drink', array['day'],
    '{"indoor": true, "intensity": "low"}'),
  ('dinner', 'Dinner',
    array['dinner', 'supper', 'restaurant', 'eat out', 'eating out', 'food', 'tacos', 'pizza', 'ramen'],
    'food_drink', array['evening', 'weekend'],
    '{"indoor": true, "intensity": "low"}'),
  ('drinks', 'Drinks',
    array['drinks', 'drink', 'beer', 'beers', 'bar', 'wine', 'cocktails', 'happy hour', 'brewery'],
    'food_drink', array['evening', 'weekend'],
    '{"indoor": true, "intensity": "low", "alcohol": true, "tags": ["bars", "alcohol"]}'),
  ('dessert', 'Dessert',
    array['dessert', 'ice cream', 'gelato', 'boba', 'bubble tea'],
    'food_drink', array['day', 'evening', 'weekend'],
    '{"intensity": "low", "alcohol": false}'),
  ('board_games', 'Board games',
    array['board games', 'boardgames', 'board game', 'games night', 'game night', 'tabletop', 'card games'],
    'games', array['evening', 'weekend'],
    '{"indoor": true, "intensity": "low"}'),
  ('trivia', 'Trivia',
    array['trivia', 'trivia night', 'pub quiz', 'quiz night', 'quiz'],
    'games', array['evening'],
    '{"indoor": true, "intensity": "low", "tags": ["bars"]}'),
  ('bowling', 'Bowling',
    array['bowling', 'bowling alley'],
    'games', array['evening', 'weekend'],
    '{"indoor": true, "intensity": "low"}'),
  ('museum', 'Museum',
    array['museum', 'museums', 'gallery', 'art gallery', 'exhibit', 'exhibition'],
    'arts_culture', array['day', 'weekend'],
    '{"indoor": true, "quiet": true, "intensity": "low", "alcohol": false}'),
  ('bookstore', 'Bookstore',
    array['bookstore', 'book store', 'bookshop', 'books', 'bookstores'],
    'arts_culture', array['day', 'weekend'],
    '{"indoor": true, "quiet": true, "intensity": "low", "alcohol": false}'),
  ('art_class', 'Art class',
    array['art class', 'painting', 'pottery', 'ceramics', 'drawing', 'sketching', 'crafts', 'craft night'],
    'arts_culture', array['evening', 'weekend'],
    '{"indoor": true, "intensity": "low"}'),
  ('music', 'Live music',
    array['music', 'live music', 'concert', 'concerts', 'gig', 'open mic', 'jazz', 'karaoke'],
    'entertainment', array['evening', 'weekend'],
    '{"indoor": true, "intensity": "low", "tags": ["late_night"]}'),
  ('movie', 'Movie',
    array['movie', 'movies', 'film', 'films', 'cinema', 'the movies'],
    'entertainment', array['evening', 'weekend'],
    '{"indoor": true, "quiet": true, "intensity": "low"}'),
  ('comedy', 'Comedy show',
    array['comedy', 'comedy show', 'stand-up', 'standup', 'improv'],
    'entertainment', array['evening'],
    '{"indoor": true, "intensity": "low", "tags": ["late_night"]}'),
  ('climbing', 'Climbing',
    array['climbing', 'climb', 'bouldering', 'rock climbing', 'climbing gym'],
    'fitness', array['day', 'evening', 'weekend'],
    '{"indoor": true, "intensity": "high", "alcohol": false}'),
  ('run', 'Run',
    array['run', 'running', 'jog', 'jogging', 'run club', '5k'],
    'fitness', array['morning', 'evening', 'weekend'],
    '{"outdoor": true, "intensity": "high", "alcohol": false}'),
  ('bike_ride', 'Bike ride',
    array['bike ride', 'biking', 'bike', 'cycling', 'bike riding'],
    'fitness', array['morning', 'weekend'],
    '{"outdoor": true, "intensity": "medium", "alcohol": false}'),
  ('yoga', 'Yoga',
    array['yoga', 'yoga class', 'pilates', 'stretching'],
    'fitness', array['morning', 'evening', 'weekend'],
    '{"indoor": true, "quiet": true, "intensity": "medium", "alcohol": false}'),
  ('pickleball', 'Pickleball',
    array['pickleball', 'pickle ball', 'tennis', 'ping pong', 'table tennis'],
    'fitness', array['morning', 'evening', 'weekend'],
    '{"outdoor": true, "intensity": "medium", "alcohol": false}'),
  ('cooking', 'Cooking',
    array['cooking', 'cook', 'cooking class', 'potluck', 'baking', 'bake'],
    'food_drink', array['evening', 'weekend'],
    '{"indoor": true, "intensity": "low"}'),
  ('farmers_market', 'Farmers market',
    array['farmers market', 'farmers'' market', 'farmer''s market', 'farmers markets', 'flea market', 'market'],
    'outdoors', array['morning', 'weekend'],
    '{"outdoor": true, "intensity": "low", "alcohol": false}'),
  ('picnic', 'Picnic',
    array['picnic', 'picnic in the park', 'park', 'park hangout'],
    'outdoors', array['day', 'weekend'],
    '{"outdoor": true, "intensity": "low"}'),
  ('volunteering', 'Volunteering',
    array['volunteering', 'volunteer', 'volunteer work', 'community service', 'beach cleanup', 'park cleanup'],
    'community', array['morning', 'weekend'],
    '{"intensity": "medium", "alcohol": false}')
on conflict (key) do update set
  display_name = excluded.display_name,
  aliases = excluded.aliases,
  category = excluded.category,
  typical_windows = excluded.typical_windows,
  default_constraints = excluded.default_constraints;
