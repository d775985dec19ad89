//! The Redis store: the same behaviour as [`MemoryStore`](super::MemoryStore), on a Redis
//! (standalone or Cluster) that several bpm-compat processes can share.
//!
//! # Atomicity
//! Every mutation is one call of a Lua function (`lua/*.lua`, one library loaded with
//! `FUNCTION LOAD` at connect and again whenever Redis lost it, called with `FCALL`; Redis 7 or
//! later), so it is one atomic round trip: the function checks its preconditions first and
//! writes nothing when one fails, answering a small coded reply (`{'nf'}`, `{'vx', field}` ...)
//! that `failure` maps onto the same `StoreError` the memory store gives. Reads of one
//! instance are a single `HGETALL`. No method reads in one round trip and writes in another.
//!
//! # Key layout
//! `P` is the configured prefix (no braces allowed), `n` the shard (`0..SHARDS`):
//! ```text
//! P{sn}:seq        STRING  per-shard counter; an id is (10 + n) * 10^12 + seq: 14 digits, the
//!                          first two naming the shard
//! P{sn}:i:<id>     HASH    one instance (fields below)
//! P{sn}:bk:<bucket>  HASH  open instances by business key: business key -> its ids joined
//!                          by `,` (`*` past 16: then the chunked index `b:<bkey>`); the
//!                          bucket is a hash of the business key mod 4096
//!                          (`business_key_bucket`)
//! P{sn}:bks       HASH    business keys whose home is this shard (`home_shard`) but which an
//!                          instance on another shard took after its start: lookups of these
//!                          ask every shard (layout 4 on; field -> `1`)
//! P{sn}:x:<index>  ZSET    the chunks of a chunked index (below): the 12-digit chunk numbers
//! P{sn}:c<chunk>:<index>  ZSET  the members of one chunk: ids whose first 12 digits are
//!                          `<chunk>`, at most 100 (a listpack)
//! P{sn}:n:<index>  STRING  the number of members of a chunked index (a key each, so that a
//!                          list reads all shards' counts with one `MGET`; layout 5)
//! P{sn}:tk:<id>    HASH    one task (fields at `task_args`); its instance lists it in its own
//!                          hash as a field `tk:<id>`
//! P{sn}:h:<id>     HASH    an instance's activity records, `<revision>.<n>` ->
//!                          `<start>|<activity>|<end>`
//! P{repo}:layout   STRING  the layout version of everything here (`LAYOUT`); a store in
//!                          another layout is refused at start-up
//! Ptok:<token>     STRING  an access token's user, expiring with the token (no hash tag: one
//!                          key per call)
//! P{repo}:...      the deployment repository, under its own hash tag: `seq` (ids), `d`
//!                  (deployments), `p` (definitions by id), `v` (latest version per tenant and
//!                  key), `n` and `dg` (duplicate filtering), `r:<deployment>` (resources),
//!                  `gen`; changes are announced on the channel `<prefix>repository`
//! ```
//!
//! Indexes (`<index>` above) hold ids in Flowable's string order: `open` (open, i.e. active or
//! suspended, instances of the shard), `k:<key>` (open ones by definition key), `t:<tenant>`
//! (by non-empty tenant), `sus` (suspended), `closed` (any other state, for queries that ask for
//! them), `to` / `td` (open / ended tasks), `ta:<user>` (open tasks by assignee), `tu:<user>` /
//! `tg:<group>` (by candidate), `b:<bkey>` (by business key). They are chunked: one sorted set
//! of a shard's million open instances is a skiplist at ~95 bytes per member, a chunk of at
//! most 100 is a listpack at ~12, so the three index entries of an instance with one task take
//! ~45 bytes instead of ~285. The chunk directory `x:` and the counts in `n` keep the total
//! O(1) and a page O(log N + offset / 50 + size). A business key's index, which mostly holds
//! one id, is a field of a bucket hash instead (~30 bytes where a sorted set of its own took
//! ~100), chunked only past 16 ids on a shard. `idx_*` in `lua/common.lua` write and read
//! them all. Layout 1 kept every index as one sorted set, layout 2 the business-key ones,
//! layouts 2 to 4 the counts as fields of one hash `n` per shard; `bpm-compat migrate-store`
//! converts them all ([`migrate`], [`LAYOUT`]).
//!
//! Tasks take their ids from the shard's sequence of their instance, so a task id names its
//! shard too and a task lives in its instance's slot: completing a task, creating the next
//! ones and moving the instance is one script (`commit.lua`), guarded by the instance's
//! revision (`r`).
//! Every sorted set has all scores 0 and decimal ids (or chunk numbers) as members, so rank
//! order is Flowable's string order (`"10" < "9"`). An instance and every index entry
//! that changes with it share the shard's hash tag `{sn}`, so each script touches one slot
//! (scripts build the index keys from `KEYS[1]`, the shard's key base: Cluster routes the
//! script by that key and the others hash to the same slot by construction). A new instance
//! with a business key goes to that key's home shard (`home_shard`; layouts 4 and 5), any other to the
//! shards round-robin. The tags do not include the prefix, so every prefix uses the
//! same 16 slots; `SHARDS` cannot change once ids exist, as ids encode it. With every id of the
//! same length, string order (Flowable's) is numeric order, and each shard holds one
//! contiguous stretch of it.
//!
//! Instance hash fields, small and separate so the hash stays a listpack (a few bytes of overhead
//! per field; Redis converts it to a far bigger hashtable once any value exceeds
//! `hash-max-listpack-value`, 64 bytes by default, e.g. a large variable) and Lua never decodes
//! JSON (cjson would corrupt `i64` values and empty arrays): `c` what never changes after the start
//! and no script reads, as a JSON array `[definition id, version, start time]` (one field instead
//! of three: every field is a reply element to carry and parse on each read; kept short so ordinary
//! ids stay under the 64-byte listpack limit), `k` definition key, `t` tenant (absent when empty),
//! `nm` name, `b` business key, `bs` business status, `s` state (`active`, `suspended`,
//! `completed`, `failed`, `failedEscalated`, `terminated`), `a` activity, `et` end time, `dd` due
//! date, `cb` claimed by, `ct` claim time, `dr` delete reason, `su` start user, `o` origin (times
//! in epoch milliseconds; an absent field is `None`), `v:<name>` a variable (`<type>:<JSON value>`,
//! e.g. `long:42`: the serde form of its `VariableValue` without the tag wrapper, written and read
//! by Rust only) and `l:["u"|"g",<identity>,<type>]` an identity link (empty value). Since
//! layout 5 the rarely set ones (`nm`, `bs`, `dd`, `cb`, `ct` and `x`, the tokens) are not
//! fields of their own but entries of the field `z`, a MessagePack array of field/value strings
//! (`pack` writes a new instance's, Lua's `inst_write` and `set_packed` change it), so a
//! list's `HMGET` asks for ten fields where it asked for fifteen, mostly absent
//! (`PACKED_FIELDS`).
//!
//! Measured on Redis 7.0 with 1,000,000 open instances of the one-task process, each with a
//! unique business key, a starter link and five small variables: 996 bytes and 4.06 keys per
//! instance (the instance hash ~390, its task hash ~180, its activity records ~200, the `b:`
//! key ~100, and ~15 for each entry in `open`, `k:` and `to`, chunks and directories included;
//! layout 1's unchunked indexes took ~95 per entry, 1,275 bytes in all). What each layout change would
//! save is measured without changing the store by `scripts/redis-layout-sim.py`
//! (docs/PERFORMANCE.md). The `{"type":..,"value":..}` wrapper the variables dropped was worth
//! ~75 bytes.
//!
//! # Cost of `list_instances`
//! - Fast path: the filter is served by at most one index with equality semantics (none, a
//!   definition key, a business key, a non-empty tenant, or suspended = true), only open
//!   instances, sorted by id. One pipeline of plain reads gives every shard's share of the
//!   index (one `MGET` of every shard's `n:<index>`: its size; for a business key `HGET` of
//!   its bucket field: its ids
//!   themselves, mostly); as shards own contiguous stretches of the id order, those say which
//!   shards hold the page (one, or two where it straddles). The page's ids come from the
//!   listed ones or from one script call per such shard (`idx_page`); a page ending within
//!   the first 100 members is read instead, on the first shard (the last, descending), with
//!   plain `ZCARD`/`ZRANGE`s of its first two chunks, whose names came with the counts
//!   (`PEEK_LIMIT`: a script call costs Redis ~8 µs, the plain reads ~1) — in the same first
//!   round, on speculation, from the names this node saw there last time when they still are
//!   the first two (`PeekAsk`; from the first alone when that held the page last time, `Seen`). Its hashes come from a pipeline of plain `HGETALL`s (`HMGET`s
//!   of the scalar fields an open instance can have, for a list that does not use variables
//!   and identity links, `InstanceQuery::with_details`). O(SHARDS + log N + start / 50 + size); cost grows with
//!   the page, not with N. A business-key lookup is two round trips of plain reads, the
//!   first to the key's home shard alone (layout 5; every shard in `LAYOUT_ROUND_ROBIN`, or when the
//!   home shard marks the key as having strays).
//!   Measured (docs/PERFORMANCE.md): with ids spread round-robin over the shards, a
//!   page needed ids from all 16 shards and hashes from ~8, and Redis or the client's reply
//!   parsing was the bottleneck.
//! - General path (every other filter or sort): each shard reads the smallest index that holds
//!   every open match (`open` when nothing narrower applies), plus `closed` when the filter
//!   asks for closed states, or just the listed ids for an id filter, and answers those
//!   hashes (for an id filter, O(ids)); Rust decodes them, applies `InstanceFilter::matches`, sorts with
//!   `InstanceQuery::compare` and pages. One round trip per shard, O(candidates) in Redis,
//!   O(candidates · log) in Rust. With no narrowing index this is every open instance: about
//!   0.7 s for 50,000 in a release build, so around a million it would exceed
//!   [`CALL_TIMEOUT`]; sorts other than by id (e.g. start time) need their own sorted sets
//!   before such sizes.
//!
//! A list is a fan-out: it sees each shard atomically but is no snapshot across shards, and an
//! instance that changes between the two fast-path round trips is dropped from the page if it
//! no longer matches.
//!
//! # `close_instances` across shards
//! Within one shard the close is atomic (the script checks every id, then closes them). Over
//! several shards it is validate-then-apply: a checking round on every shard touched, then the
//! closing round; an instance closed by someone else between the two rounds makes the second
//! round fail on that shard after others may have been applied.
//!
//! # Failures
//! Redis errors become `StoreError::Backend`; every call is bounded by [`CALL_TIMEOUT`]
//! (`tokio::time::timeout`, plus the connection's own response timeout), so a dead Redis
//! answers an error, never a hang (a write that timed out may still have been applied). The
//! bound runs on tokio's clock: under `tokio::time::pause()` it fires as soon as the runtime
//! idles. Hashes that do not decode are `StoreError::Corrupt`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bpm_compat_model::{
    ActivityRecord, Clash, Comment, DelegationState, Deployment, Identity, IdentityLink, InstanceFilter,
    InstanceId, InstanceQuery, InstanceSort, InstanceState, Item, Missing, NewInstance, Page,
    ProcessDefinition, ProcessInstance, SetMode, SortOrder, StepLog, Task, TaskFilter, TaskId, TaskQuery,
    TextMatch, Timestamp, UpdateInstance, Variable, VariableValue, Variables, DEFAULT_PRIORITY,
};
use futures_util::future::try_join_all;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{Script, Value};

use super::{
    record_order, resources_digest, Closing, Commit, Deployed, NewDeployment, Repository, Store, StoreError,
};

/// Number of shards, each with its own hash tag. Fixed: ids encode their shard.
pub const SHARDS: u64 = 16;
/// Ids are `(FIRST_PREFIX + shard) * ID_SPAN + seq`: 14 digits, the first two naming the
/// shard. Equal length makes string order numeric order, and each shard owns one contiguous
/// stretch of it, so a page in id order lies in one or two shards (see `list_fast`).
pub const ID_SPAN: u64 = 1_000_000_000_000;
const FIRST_PREFIX: u64 = 10;
/// Upper bound of one call to Redis, connection included.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Upper bound of [`RedisStore::connect`].
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Multiplexed connections per store handle by default (see `Inner::cons`): one per two
/// cores. Each connection has one task that writes the requests and parses the replies; on the
/// 2-core bench machine one connection served a business-key lookup at 43–48 µs of server and
/// 9–11 µs of Redis CPU where four took 62–70 and 21–24 (replies and requests batch into fewer
/// reads and writes on either side), and `get` and `list` gained as much (docs/PERFORMANCE.md).
pub fn default_connections() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).clamp(1, 8))
}

/// The library's functions, one `lua/<name>.lua` each: defines [`LUA_FUNCTIONS`] (name and
/// body, what [`LIBRARY`] is built from) and `FUNCTIONS.<name>` (what a call names).
macro_rules! lua_functions {
    ($($name:ident),* $(,)?) => {
        const LUA_FUNCTIONS: &[(&str, &str)] = &[
            $((stringify!($name), include_str!(concat!("lua/", stringify!($name), ".lua"))),)*
        ];

        struct Functions {
            $($name: Function,)*
        }

        static FUNCTIONS: LazyLock<Functions> = LazyLock::new(|| Functions {
            $($name: Function(format!("{}_{}", LIBRARY.name, stringify!($name))),)*
        });
    };
}

lua_functions!(
    create,
    update,
    suspend,
    close,
    add_link,
    remove_link,
    set_vars,
    delete_vars,
    gather,
    commit,
    comment,
    items,
    tasks,
    migrate,
    migrate_counts,
    migrate_rows,
    // The repository's: they bind `base` to the repository's key base themselves.
    deploy,
    undeploy,
);

/// The store's Lua code as one library of Redis Functions (Redis 7, `FUNCTION LOAD`), called
/// with `FCALL`: the prelude `lua/common.lua` defines the helpers once, when the library
/// loads, and each of [`LUA_FUNCTIONS`] is a function of it. As EVALSHA scripts, every call ran the
/// prelude again (~1.1–1.6 µs of Redis CPU per create, docs/PERFORMANCE.md). The name carries
/// a hash of the source, so nodes of different versions sharing a Redis each call their own
/// (an older version's library stays until a `FUNCTION DELETE`).
struct Library {
    name: String,
    source: String,
}

static LIBRARY: LazyLock<Library> = LazyLock::new(|| {
    let mut code = String::from(include_str!("lua/common.lua"));
    for (name, body) in LUA_FUNCTIONS {
        code.push_str(&format!(
            "\nredis.register_function('{{lib}}_{name}', function(KEYS, ARGV)\nbase = KEYS[1]\n{body}\nend)\n"
        ));
    }
    let name = format!("bpmcompat_{}", &Script::new(&code).get_hash()[..16]);
    let source = format!("#!lua name={name}\n{}", code.replace("{lib}", &name));
    Library { name, source }
});

/// One function of the library, by its full name (`<library>_<name>`).
struct Function(String);

impl Function {
    /// A call with `key` as `KEYS[1]` (the key base every key of the call is built from).
    fn key(&self, key: &str) -> Call {
        let mut cmd = redis::cmd("FCALL");
        cmd.arg(&self.0).arg(1).arg(key);
        Call(cmd)
    }
}

/// A prepared `FCALL`: arguments go straight into the command.
struct Call(redis::Cmd);

impl Call {
    fn arg<T: redis::ToRedisArgs>(&mut self, arg: T) -> &mut Call {
        self.0.arg(arg);
        self
    }

    /// Runs the call within [`CALL_TIMEOUT`], loading the library first when Redis does not
    /// have it (a restart without persistence, a `FUNCTION FLUSH`).
    async fn run<T: redis::FromRedisValue>(
        &self,
        con: &mut impl redis::aio::ConnectionLike,
    ) -> Result<T, StoreError> {
        bounded(async {
            match self.0.query_async(con).await {
                Err(e) if e.code() == Some("ERR") && e.detail() == Some("Function not found") => {
                    load_library(con).await?;
                    self.0.query_async(con).await
                }
                other => other,
            }
        })
        .await
    }
}

/// `FUNCTION LOAD REPLACE` of [`LIBRARY`].
async fn load_library(con: &mut impl redis::aio::ConnectionLike) -> redis::RedisResult<()> {
    let _: Value = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg("REPLACE")
        .arg(&LIBRARY.source)
        .query_async(con)
        .await?;
    Ok(())
}

/// A clone-cheap handle; clones share the connection and the shard rotation.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// Multiplexed and reconnecting; cloned per call (a cheap handle), so no lock is needed.
    /// Used in turn; each has one driver task that writes requests and parses replies, so
    /// with one connection all reply parsing runs on one core ([`default_connections`]).
    cons: Vec<ConnectionManager>,
    next_con: AtomicUsize,
    prefix: String,
    /// The key base of each shard, `<prefix>{s<n>}:` (built once: lists use all 16).
    bases: Vec<String>,
    /// Round-robin over the shards for new instances. Relaxed: any spread will do.
    next_shard: AtomicU64,
    /// Per (index, descending): what a list last saw of the first chunks on the shard its
    /// first page starts on ([`PeekAsk`]).
    peeks: Mutex<HashMap<(String, bool), Seen>>,
    /// The placement rule holds ([`LAYOUT`], not [`LAYOUT_ROUND_ROBIN`]): an instance started with a business key
    /// lives on [`home_shard`] of it, and one given a business key later is marked in its
    /// home shard's `bks` hash (`update_instance`).
    business_keys_at_home: bool,
    /// `<prefix>{repo}:`, the key base of deployments and definitions.
    repo: String,
    /// `<prefix>{items}:`, the key base of items and their indexes (one slot: items are few
    /// and written in batches that must be atomic).
    items: String,
    /// Where deployment changes are announced (`<prefix>repository`).
    channel: String,
    /// Bumped when this node changes the repository and on every announcement (see
    /// `watch_repository`).
    repository_version: Arc<AtomicU64>,
    watcher: tokio::task::JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

/// Follows the repository channel: every announcement, and every (re)subscription (a
/// message may have been missed while disconnected), bumps the version, so engines reload
/// their definition cache. Runs until the store is dropped.
async fn watch_repository(client: redis::Client, channel: String, version: Arc<AtomicU64>) {
    use futures_util::StreamExt;
    loop {
        if let Ok(Ok(mut pubsub)) = tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub()).await {
            if pubsub.subscribe(&channel).await.is_ok() {
                version.fetch_add(1, Ordering::AcqRel);
                let mut messages = pubsub.on_message();
                while messages.next().await.is_some() {
                    version.fetch_add(1, Ordering::AcqRel);
                }
            }
        }
        tracing::warn!(channel, "repository channel lost; resubscribing");
        version.fetch_add(1, Ordering::AcqRel);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

fn backend(e: redis::RedisError) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn corrupt(what: impl fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// Runs one call to Redis within [`CALL_TIMEOUT`].
async fn bounded<T>(call: impl Future<Output = redis::RedisResult<T>>) -> Result<T, StoreError> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(result) => result.map_err(backend),
        Err(_) => Err(StoreError::Backend(format!(
            "Redis did not answer within {CALL_TIMEOUT:?}"
        ))),
    }
}

/// Sends the commands of `pipe` and answers their replies as Redis gave them, an error reply
/// failing the call, within [`CALL_TIMEOUT`]. (`Pipeline::query_async` also rebuilds every
/// nested array while it looks for errors in it, then converts the whole tree into the type
/// asked for: ~6 % of a list's server CPU, perf, for replies such as `HMGET`'s and `ZRANGE`'s,
/// which cannot hold nested errors.)
async fn raw_replies(con: &mut ConnectionManager, pipe: &redis::Pipeline) -> Result<Vec<Value>, StoreError> {
    let replies = bounded(con.req_packed_commands(pipe, 0, pipe.len())).await?;
    replies
        .into_iter()
        .map(|reply| match reply {
            Value::ServerError(e) => Err(backend(e.into())),
            reply => Ok(reply),
        })
        .collect()
}

fn shard_of(id: InstanceId) -> u64 {
    // An id this store did not make (a client's guess) maps to shard 0, where no key of it
    // exists, so it is simply not found.
    (id.0 / ID_SPAN)
        .checked_sub(FIRST_PREFIX)
        .filter(|s| *s < SHARDS)
        .unwrap_or(0)
}

impl RedisStore {
    /// Connects to `url` (`redis://host:port/db`); every key starts with `prefix`, which must
    /// not contain `{` or `}` (the shards' hash tags follow it). Fails with
    /// `StoreError::Backend` when Redis does not answer within a few seconds.
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisStore, StoreError> {
        RedisStore::connect_with(url, prefix, default_connections()).await
    }

    /// [`RedisStore::connect`] over `connections` multiplexed connections (at least one).
    pub async fn connect_with(url: &str, prefix: &str, connections: usize) -> Result<RedisStore, StoreError> {
        if prefix.contains(['{', '}']) {
            return Err(StoreError::Backend(format!(
                "key prefix {prefix:?} must not contain braces: they would change the hash tags"
            )));
        }
        let client = redis::Client::open(url).map_err(backend)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(3)
            .set_max_delay(Duration::from_secs(1));
        let mut cons = Vec::with_capacity(connections.max(1));
        for _ in 0..connections.max(1) {
            let mut con = match tokio::time::timeout(
                CONNECT_TIMEOUT,
                ConnectionManager::new_with_config(client.clone(), config.clone()),
            )
            .await
            {
                Ok(con) => con.map_err(backend)?,
                Err(_) => {
                    return Err(StoreError::Backend(format!(
                        "Redis did not answer within {CONNECT_TIMEOUT:?}"
                    )))
                }
            };
            let _: Value = bounded(redis::cmd("PING").query_async(&mut con)).await?;
            cons.push(con);
        }
        bounded(load_library(&mut cons[0])).await.map_err(|e| {
            StoreError::Backend(format!(
                "cannot load the store's functions (Redis 7 or later is needed): {e}"
            ))
        })?;
        let business_keys_at_home = check_layout(&mut cons[0], prefix).await?;
        let channel = format!("{prefix}repository");
        let repository_version = Arc::new(AtomicU64::new(0));
        let watcher = tokio::spawn(watch_repository(
            client.clone(),
            channel.clone(),
            repository_version.clone(),
        ));
        Ok(RedisStore {
            inner: Arc::new(Inner {
                cons,
                next_con: AtomicUsize::new(0),
                prefix: prefix.to_owned(),
                bases: (0..SHARDS)
                    .map(|shard| format!("{prefix}{{s{shard}}}:"))
                    .collect(),
                next_shard: AtomicU64::new(0),
                peeks: Mutex::new(HashMap::new()),
                business_keys_at_home,
                repo: format!("{prefix}{{repo}}:"),
                items: format!("{prefix}{{items}}:"),
                channel,
                repository_version,
                watcher,
            }),
        })
    }

    /// The next connection, round-robin (Relaxed: any spread will do).
    fn con(&self) -> ConnectionManager {
        let n = self.inner.next_con.fetch_add(1, Ordering::Relaxed);
        self.inner.cons[n % self.inner.cons.len()].clone()
    }

    /// The key base of a shard, `<prefix>{s<n>}:`; scripts get it as `KEYS[1]`.
    fn base(&self, shard: u64) -> &str {
        &self.inner.bases[shard as usize]
    }

    /// The count of a chunked index on a shard, `<base>n:<index>` (`count_key` in lua/common.lua).
    fn count_key(&self, shard: u64, index: &str) -> String {
        [self.base(shard), "n:", index].concat()
    }

    fn instance_key(&self, id: InstanceId) -> String {
        [self.base(shard_of(id)), "i:", &digits(id.0)].concat()
    }

    /// Runs a prepared function call within [`CALL_TIMEOUT`].
    async fn invoke(&self, call: Call) -> Result<Value, StoreError> {
        call.run(&mut self.con()).await
    }

    /// A call of `function` on the shard of `id`, with the id as `ARGV[1]`.
    fn on_instance(&self, function: &'static Function, id: InstanceId) -> Call {
        let mut inv = function.key(self.base(shard_of(id)));
        inv.arg(id.0);
        inv
    }

    /// The first round of the fast path: the shards that may hold members of `index` and, for
    /// each, its share: its count (one `MGET` of every shard's `n:<index>`) or, for a business
    /// key, `HGET` of its bucket field (its ids joined by `,`, or `*` when they are a chunked
    /// index). Plain reads
    /// in one pipeline: a read needs no atomicity across shards, and they cost Redis next to
    /// nothing. Under the placement rule ([`LAYOUT`]) a business key asks its home shard alone,
    /// unless the shard marks it as having strays (`update_instance`), then every shard.
    /// With `peek`, the same pipeline reads the first two chunk names of a chunked index on
    /// one shard and, on speculation, a stretch of it from the names read last time
    /// ([`PeekAsk`], [`Peek`]).
    async fn index_shares(
        &self,
        con: &mut ConnectionManager,
        index: &str,
        peek: Option<PeekAsk>,
    ) -> Result<(Vec<u64>, Vec<Option<Vec<u8>>>, Option<Peek>), StoreError> {
        let business_key = index.strip_prefix("b:");
        let bucket = business_key.map(|bk| format!("bk:{}", business_key_bucket(bk)));
        // A business key's share: `HGET` of its bucket field.
        let listed = |pipe: &mut redis::Pipeline, base: &str, bk: &str| {
            pipe.cmd("HGET")
                .arg([base, bucket.as_deref().unwrap_or_default()].concat())
                .arg(bk);
        };
        if let Some(bk) = business_key.filter(|_| self.inner.business_keys_at_home) {
            let home = home_shard(bk);
            let base = self.base(home);
            let mut pipe = redis::pipe();
            listed(&mut pipe, base, bk);
            pipe.cmd("HEXISTS").arg([base, "bks"].concat()).arg(bk);
            let (reply, strays): (Option<Vec<u8>>, bool) = bounded(pipe.query_async(con)).await?;
            if !strays {
                return Ok((vec![home], vec![reply], None));
            }
        }
        let peek = peek.filter(|_| business_key.is_none());
        let mut pipe = redis::pipe();
        match business_key {
            Some(bk) => (0..SHARDS).for_each(|shard| listed(&mut pipe, self.base(shard), bk)),
            // Every shard's count in one command: Redis spent ~3 µs less per list than on
            // sixteen `HGET`s, the server ~2 µs less (docs/PERFORMANCE.md).
            None => {
                pipe.cmd("MGET");
                (0..SHARDS).for_each(|shard| {
                    pipe.arg(self.count_key(shard, index));
                });
            }
        }
        if let Some(ask) = &peek {
            pipe.cmd("ZRANGE")
                .arg([self.base(ask.shard), "x:", index].concat())
                .arg(0)
                .arg(1);
            if ask.desc {
                pipe.arg("REV");
            }
            if let Some((chunks, stretch)) = &ask.guess {
                self.chunk_reads(&mut pipe, ask.shard, index, chunks, *stretch, ask.desc);
            }
        }
        let mut replies = raw_replies(con, &pipe).await?.into_iter();
        let shares = match business_key {
            Some(_) => replies.by_ref().take(SHARDS as usize).collect(),
            None => match replies.next() {
                Some(Value::Array(counts)) => counts,
                other => return Err(corrupt(format!("counts of {index}: {other:?}"))),
            },
        };
        let shares = shares
            .into_iter()
            .map(|v| match v {
                Value::Nil => Ok(None),
                other => bulk(other).map(Some),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if shares.len() != SHARDS as usize {
            return Err(corrupt("malformed page reply"));
        }
        let peek = match peek {
            Some(ask) => {
                let chunks = bulk_list(replies.next().ok_or_else(|| corrupt("missing peek reply"))?)?;
                let guessed = match ask.guess {
                    Some((seen, stretch)) => {
                        let (ids, first) =
                            chunk_stretch(&mut replies, seen.len(), chunks.len() > 1, stretch)?;
                        // Valid only if those still are the first chunks.
                        chunks.starts_with(&seen).then_some((stretch, ids, first))
                    }
                    None => None,
                };
                Some(Peek {
                    shard: ask.shard,
                    chunks,
                    guessed,
                })
            }
            None => None,
        };
        Ok(((0..SHARDS).collect(), shares, peek))
    }

    /// Appends the plain reads of the stretch `[offset, offset + count)` of a chunked index on
    /// `shard` from its first two chunks `chunks` (in the list's order): the first's size, its
    /// part of the stretch, and the second from its start (where the stretch goes on in it
    /// depends on the first's size). `chunks` is not empty and `count` is not 0.
    fn chunk_reads(
        &self,
        pipe: &mut redis::Pipeline,
        shard: u64,
        index: &str,
        chunks: &[Vec<u8>],
        (offset, count): Stretch,
        desc: bool,
    ) {
        let base = self.base(shard);
        // `c<chunk>:<index>`, as `chunk_key` in lua/common.lua names a chunk.
        let key = |chunk: &[u8]| {
            let mut key = [base.as_bytes(), b"c"].concat();
            key.extend_from_slice(chunk);
            key.push(b':');
            key.extend_from_slice(index.as_bytes());
            key
        };
        pipe.cmd("ZCARD").arg(key(&chunks[0]));
        let mut range = |key: Vec<u8>, from: u64| {
            pipe.cmd("ZRANGE").arg(key).arg(from).arg(offset + count - 1);
            if desc {
                pipe.arg("REV");
            }
        };
        range(key(&chunks[0]), offset);
        if let Some(second) = chunks.get(1) {
            range(key(second), 0);
        }
    }

    /// The ids at `[offset, offset + count)` of a chunked index on the peeked shard, in the
    /// peek's order, read with plain commands from its first two chunks in one round trip
    /// ([`RedisStore::chunk_reads`]). `None` when the stretch reaches past them (the caller asks
    /// the page script instead).
    async fn page_from_peek(
        &self,
        con: &mut ConnectionManager,
        index: &str,
        peek: &Peek,
        stretch: Stretch,
        desc: bool,
    ) -> Result<Option<Names>, StoreError> {
        if peek.chunks.is_empty() || stretch.1 == 0 {
            return Ok(None);
        }
        let mut pipe = redis::pipe();
        self.chunk_reads(&mut pipe, peek.shard, index, &peek.chunks, stretch, desc);
        let replies = raw_replies(con, &pipe).await?;
        let (ids, _) = chunk_stretch(
            &mut replies.into_iter(),
            peek.chunks.len(),
            peek.chunks.len() > 1,
            stretch,
        )?;
        Ok(ids)
    }

    /// The fast path (module docs, "Cost of `list_instances`"): each shard's share of the index,
    /// which shards hold the page, its ids, then their hashes.
    async fn list_fast(
        &self,
        query: &InstanceQuery,
        index: &str,
    ) -> Result<Page<ProcessInstance>, StoreError> {
        let desc = query.order == SortOrder::Desc;
        let mut con = self.con();
        let business_key = index.strip_prefix("b:");
        // A first page of a chunked index is on the first shard (the last, descending) when the
        // index has a share of its size there, as common indexes do with round-robin placement.
        // The stretch is then `[start, start + size)` of that shard: the first round reads it on
        // speculation from the chunks this node saw there last time, valid if they still are the
        // first two (which saves a round trip).
        let stretch = (query.start as u64, query.size as u64);
        let memo = (index.to_owned(), desc);
        let peeks = || self.inner.peeks.lock().unwrap_or_else(|p| p.into_inner());
        let ask =
            (business_key.is_none() && stretch.0.saturating_add(stretch.1) <= PEEK_LIMIT).then(|| PeekAsk {
                shard: if desc { SHARDS - 1 } else { 0 },
                desc,
                guess: peeks()
                    .get(&memo)
                    .filter(|seen| !seen.chunks.is_empty() && stretch.1 > 0)
                    .map(|seen| {
                        // The first chunk held the stretch last time: read it alone (~4 % less
                        // server CPU per list, docs/PERFORMANCE.md); the first round checks.
                        let read = if seen.first >= stretch.0 + stretch.1 { 1 } else { 2 };
                        (seen.chunks.iter().take(read).cloned().collect(), stretch)
                    }),
            });
        let (shards, replies, mut peek) = self.index_shares(&mut con, index, ask).await?;
        // Taken out (not copied) for the page read below.
        let guessed = peek.as_mut().and_then(|p| p.guessed.take());
        if let Some(p) = &peek {
            let first = guessed.as_ref().map_or(0, |(.., first)| *first);
            let mut peeks = peeks();
            if peeks
                .get(&memo)
                .is_none_or(|seen| seen.chunks != p.chunks || seen.first != first)
            {
                // A handful of indexes are listed often; anything beyond is forgotten wholesale.
                if peeks.len() >= PEEK_MEMORY {
                    peeks.clear();
                }
                let chunks = p.chunks.clone();
                peeks.insert(memo, Seen { chunks, first });
            }
        }
        // Per shard: its ids when the reply listed them, else its count (none and 0 for the
        // shards not asked).
        let mut listed: Vec<Option<Vec<InstanceId>>> = vec![Some(Vec::new()); SHARDS as usize];
        let mut counts = vec![0; SHARDS as usize];
        for (shard, reply) in shards.into_iter().zip(replies) {
            let reply = reply.unwrap_or_default();
            let at = shard as usize;
            counts[at] = match business_key {
                Some(_) if reply.as_slice() == b"*" => {
                    let n: Option<u64> = bounded(
                        redis::cmd("GET")
                            .arg(self.count_key(shard, index))
                            .query_async(&mut con),
                    )
                    .await?;
                    listed[at] = None;
                    n.unwrap_or_default()
                }
                Some(_) => {
                    let ids = reply
                        .split(|b| *b == b',')
                        .filter(|id| !id.is_empty())
                        .map(parse_id)
                        .collect::<Result<Vec<_>, _>>()?;
                    let count = ids.len() as u64;
                    listed[at] = Some(ids);
                    count
                }
                None => {
                    listed[at] = None;
                    if reply.is_empty() {
                        0
                    } else {
                        std::str::from_utf8(&reply)
                            .ok()
                            .and_then(|n| n.parse().ok())
                            .ok_or_else(|| corrupt(format!("bad count of {index}")))?
                    }
                }
            };
        }
        let total = counts.iter().sum();
        let plan = page_plan(&counts, query.start as u64, query.size as u64, desc);
        // The page's ids: sliced from the listed ones, read from the peeked chunks, or one
        // script call per other chunked shard.
        let peeked = peek.as_ref().filter(|p| !p.chunks.is_empty()).and_then(|p| {
            let &(_, offset, count) = plan.iter().find(|(shard, ..)| *shard == p.shard)?;
            Some((p, offset, count))
        });
        let is_peeked = |shard: u64| peeked.is_some_and(|(p, ..)| p.shard == shard);
        let page_script = |shard: u64, offset: u64, count: u64| {
            let mut inv = FUNCTIONS.gather.key(self.base(shard));
            inv.arg("pageids")
                .arg(index)
                .arg(offset)
                .arg(count)
                .arg(if desc { "desc" } else { "asc" });
            self.invoke(inv)
        };
        let calls = plan
            .iter()
            .filter(|(shard, ..)| listed[*shard as usize].is_none() && !is_peeked(*shard))
            .map(|&(shard, offset, count)| page_script(shard, offset, count));
        let from_peek = async {
            let Some((p, offset, count)) = peeked else {
                return Ok(Vec::new());
            };
            let read = match guessed {
                Some((guess, ids, _)) if guess == (offset, count) => ids,
                _ => {
                    self.page_from_peek(&mut self.con(), index, p, (offset, count), desc)
                        .await?
                }
            };
            match read {
                Some(ids) => Ok(ids),
                None => bulk_list(page_script(p.shard, offset, count).await?),
            }
        };
        let (mut from_peek, paged) = futures_util::future::try_join(from_peek, try_join_all(calls)).await?;
        let mut paged = paged.into_iter();
        let mut ids = Vec::new();
        for (shard, offset, count) in plan {
            let (offset, count) = (offset as usize, count as usize);
            let chunked = match &listed[shard as usize] {
                Some(all) if desc => {
                    ids.extend(all.iter().rev().skip(offset).take(count));
                    continue;
                }
                Some(all) => {
                    ids.extend(all.iter().skip(offset).take(count));
                    continue;
                }
                None if is_peeked(shard) => std::mem::take(&mut from_peek),
                None => bulk_list(paged.next().ok_or_else(|| corrupt("missing page reply"))?)?,
            };
            for id in chunked {
                ids.push(parse_id(&id)?);
            }
        }
        // The hashes: one pipeline of plain `HGETALL`s. Redis spends ~2.6 µs on an `HGETALL`
        // of its own and ~11 µs on one inside a script, which turns the reply into a Lua
        // table; measured per list of ten, Redis CPU went from ~150 to ~70 µs and the
        // server's from ~200 to ~250 µs (redis-rs parses each field), ~13% less in all
        // (docs/PERFORMANCE.md). Without details, plain `HMGET`s of the scalar fields: the
        // variables, identity links and task list are half an instance's reply elements, and
        // parsing replies is a third of what a list costs the server; Redis spends ~1.9 µs
        // more per instance on the `HMGET`.
        let mut items = Vec::with_capacity(ids.len());
        if !ids.is_empty() {
            let mut pipe = redis::Pipeline::with_capacity(ids.len());
            for id in &ids {
                let key = self.instance_key(*id);
                if query.with_details {
                    pipe.cmd("HGETALL").arg(key);
                } else {
                    // Sized up front: written an argument at a time, it grew its buffers often.
                    let mut hmget = redis::Cmd::with_capacity(2 + OPEN_FIELDS.len(), 48 + key.len());
                    hmget.arg("HMGET").arg(key).arg(&OPEN_FIELDS[..]);
                    pipe.add_command(hmget);
                }
            }
            let mut instances = Vec::with_capacity(ids.len());
            for (id, reply) in ids.into_iter().zip(raw_replies(&mut con, &pipe).await?) {
                // Instances are never removed, but a page read is not a snapshot: check again.
                let found = if query.with_details {
                    let fields = pairs(reply)?;
                    (!fields.is_empty()).then(|| decode_instance(id, fields))
                } else {
                    let fields = open_fields(id, reply)?;
                    (!fields.is_empty()).then(|| decode_instance(id, fields))
                };
                instances.extend(found.transpose()?);
            }
            items.extend(instances.into_iter().filter(|i| query.filter.matches(i)));
        }
        Ok(Page {
            items,
            total,
            start: query.start,
        })
    }

    /// Reads the instances with these ids, one round trip per shard touched.
    async fn fetch(&self, ids: &[InstanceId]) -> Result<BTreeMap<InstanceId, ProcessInstance>, StoreError> {
        let mut by_shard: BTreeMap<u64, Vec<InstanceId>> = BTreeMap::new();
        for id in ids {
            let list = by_shard.entry(shard_of(*id)).or_default();
            if !list.contains(id) {
                list.push(*id);
            }
        }
        let calls = by_shard.into_iter().map(|(shard, ids)| {
            let mut inv = FUNCTIONS.gather.key(self.base(shard));
            inv.arg("ids");
            for id in ids {
                inv.arg(id.0);
            }
            self.invoke(inv)
        });
        let mut found = BTreeMap::new();
        for reply in try_join_all(calls).await? {
            for i in decode_gathered(reply)? {
                found.insert(i.id, i);
            }
        }
        Ok(found)
    }

    async fn list_general(&self, query: &InstanceQuery) -> Result<Page<ProcessInstance>, StoreError> {
        let f = &query.filter;
        let mut hits: Vec<ProcessInstance> = match &f.ids {
            Some(ids) => self.fetch(ids).await?.into_values().collect(),
            None => {
                let (open, closed) = candidate_indexes(f);
                let calls = (0..SHARDS).map(|shard| {
                    let mut inv = FUNCTIONS.gather.key(self.base(shard));
                    inv.arg("idx").arg(open.len());
                    for index in &open {
                        inv.arg(index);
                    }
                    inv.arg(if closed { "1" } else { "0" });
                    self.invoke(inv)
                });
                let mut all = Vec::new();
                for reply in try_join_all(calls).await? {
                    all.extend(decode_gathered(reply)?);
                }
                all
            }
        };
        hits.retain(|i| f.matches(i));
        hits.sort_by(|a, b| query.compare(a, b));
        let total = hits.len() as u64;
        let items = hits
            .into_iter()
            .skip(query.start)
            .take(query.size)
            .map(|mut i| {
                // Read for the filter; left out as on the fast path.
                if !query.with_details {
                    i.clear_details();
                }
                i
            })
            .collect();
        Ok(Page {
            items,
            total,
            start: query.start,
        })
    }

    async fn close_on_shard(
        &self,
        mode: &str,
        shard: u64,
        ids: &[InstanceId],
        closing: &Closing,
    ) -> Result<Option<InstanceId>, StoreError> {
        let mut inv = FUNCTIONS.close.key(self.base(shard));
        inv.arg(mode)
            .arg(state_code(closing.state))
            .arg(closing.at.0)
            .arg(if closing.reason.is_some() { "1" } else { "0" })
            .arg(closing.reason.as_deref().unwrap_or(""));
        for id in ids {
            inv.arg(id.0);
        }
        let (code, rest) = status(self.invoke(inv).await?)?;
        match code.as_str() {
            "ok" => Ok(None),
            "nf" => {
                let id = rest
                    .into_iter()
                    .next()
                    .ok_or_else(|| corrupt("close reply without id"))?;
                Ok(Some(parse_id(&bulk(id)?)?))
            }
            other => Err(corrupt(format!("unexpected close reply {other:?}"))),
        }
    }
}

/// What a list's first round asks beside the counts (`index_shares`): the first two chunk
/// names of a chunked index on `shard`, in the list's order, and `guess`: the names this node
/// saw there last time with a stretch to read from them on speculation.
struct PeekAsk {
    shard: u64,
    desc: bool,
    guess: Option<(Names, Stretch)>,
}

/// The first two chunk names read, and the speculative stretch with its ids (`None`: it
/// reaches past the chunks read) and the first chunk's size, when it was read from what still
/// are the first chunks.
struct Peek {
    shard: u64,
    chunks: Names,
    guessed: Option<(Stretch, Option<Names>, u64)>,
}

/// The first two chunk names a list saw of an index on a shard, and the first one's size (0
/// until a speculative read saw it).
#[derive(Debug)]
struct Seen {
    chunks: Names,
    first: u64,
}

/// Raw members or chunk names of an index, as Redis answers them.
type Names = Vec<Vec<u8>>;

/// `(offset, count)`: a stretch of an index on one shard.
type Stretch = (u64, u64);

/// Lists whose page ends within this many members peek at the first (last) shard's chunks,
/// whose plain `ZRANGE`s cost Redis ~1 µs where the page script costs ~8 (docs/PERFORMANCE.md).
const PEEK_LIMIT: u64 = 100;

/// How many (index, order) pairs a node remembers the first chunks of.
const PEEK_MEMORY: usize = 256;

/// The stretch `[offset, offset + count)` from the replies to [`RedisStore::chunk_reads`] over
/// `chunks` chunk names (`None` when it reaches past them and `more` chunks may follow), and
/// the first chunk's size.
fn chunk_stretch(
    replies: &mut impl Iterator<Item = Value>,
    chunks: usize,
    more: bool,
    (offset, count): Stretch,
) -> Result<(Option<Names>, u64), StoreError> {
    let mut next = || replies.next().ok_or_else(|| corrupt("missing chunk reply"));
    let first_size = match next()? {
        Value::Int(n) => u64::try_from(n).unwrap_or(0),
        other => return Err(corrupt(format!("expected a count, got {other:?}"))),
    };
    let mut ids = bulk_list(next()?)?;
    let rest = if chunks > 1 {
        bulk_list(next()?)?
    } else {
        Vec::new()
    };
    let wanted = count as usize - ids.len().min(count as usize);
    let skip = offset.saturating_sub(first_size) as usize;
    let rest: Names = rest.into_iter().skip(skip).take(wanted).collect();
    // Short of the stretch: it may go on in a chunk not read.
    if rest.len() < wanted && more {
        return Ok((None, first_size));
    }
    ids.extend(rest);
    Ok((Some(ids), first_size))
}

/// Which shards hold the page `[start, start + size)` of an index whose shards hold `counts`
/// members: `(shard, offset in it, how many)`, in page order. Shards own contiguous stretches
/// of the id order, so the page is the next `size` members after skipping `start`, walking
/// the shards in order (backwards for `desc`).
fn page_plan(counts: &[u64], start: u64, size: u64, desc: bool) -> Vec<(u64, u64, u64)> {
    let mut order: Vec<u64> = (0..counts.len() as u64).collect();
    if desc {
        order.reverse();
    }
    let (mut skip, mut wanted) = (start, size);
    let mut plan = Vec::new();
    for shard in order {
        let count = counts[shard as usize];
        if wanted == 0 {
            break;
        }
        if skip >= count {
            skip -= count;
            continue;
        }
        let take = wanted.min(count - skip);
        plan.push((shard, skip, take));
        wanted -= take;
        skip = 0;
    }
    plan
}

/// The shard an instance started with business key `bk` lives on ([`LAYOUT`]; since layout 4):
/// FNV-1a with MurmurHash3's finalizer, so that it does not follow `business_key_bucket` (a
/// shard's keys spread over all its buckets) and similar keys (`order-1`, `order-2` ...)
/// spread evenly: a million `bench-<n>` keys put 62,245 to 62,928 instances on each shard.
pub fn home_shard(bk: &str) -> u64 {
    let mut h = bk.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h % SHARDS
}

/// The bucket of a business key (`P{sn}:bk:<bucket>`), as `bk_bucket` in `lua/common.lua`
/// computes it.
fn business_key_bucket(bk: &str) -> u32 {
    bk.bytes().fold(0, |h, b| (h * 31 + u32::from(b)) % 4096)
}

fn fast_index(query: &InstanceQuery) -> Option<String> {
    if query.sort != InstanceSort::Id {
        return None;
    }
    let f = &query.filter;
    let default = InstanceFilter::default();
    if *f == default {
        return Some("open".to_owned());
    }
    let only = |clear: fn(&mut InstanceFilter)| {
        let mut rest = f.clone();
        clear(&mut rest);
        rest == default
    };
    if let Some(TextMatch::Equals(k)) = &f.definition_key {
        if only(|r| r.definition_key = None) {
            return Some(format!("k:{k}"));
        }
    }
    if let Some(TextMatch::Equals(bk)) = &f.business_key {
        if only(|r| r.business_key = None) {
            return Some(format!("b:{bk}"));
        }
    }
    if let Some(TextMatch::Equals(t)) = &f.tenant_id {
        if !t.is_empty() && only(|r| r.tenant_id = None) {
            return Some(format!("t:{t}"));
        }
    }
    if f.suspended == Some(true) && only(|r| r.suspended = None) {
        return Some("sus".to_owned());
    }
    None
}

/// For the general path: the open-instance indexes each of which holds every open match (the
/// shard reads the smallest; empty when no open state is asked for), and whether closed
/// instances are candidates too.
fn candidate_indexes(f: &InstanceFilter) -> (Vec<String>, bool) {
    let open_states: Vec<InstanceState> = f.states.iter().copied().filter(|s| s.is_open()).collect();
    let want_open = f.states.is_empty() || !open_states.is_empty();
    let want_closed = f.states.iter().any(|s| !s.is_open());
    let mut open = Vec::new();
    if want_open {
        open.push("open".to_owned());
        if let Some(TextMatch::Equals(k)) = &f.definition_key {
            open.push(format!("k:{k}"));
        }
        if let Some([k]) = f.definition_keys.as_deref() {
            open.push(format!("k:{k}"));
        }
        if let Some(TextMatch::Equals(bk)) = &f.business_key {
            open.push(format!("b:{bk}"));
        }
        if let Some(TextMatch::Equals(t)) = &f.tenant_id {
            if !t.is_empty() {
                open.push(format!("t:{t}"));
            }
        }
        let only_suspended =
            !open_states.is_empty() && open_states.iter().all(|s| *s == InstanceState::Suspended);
        if f.suspended == Some(true) || only_suspended {
            open.push("sus".to_owned());
        }
    }
    (open, want_closed)
}

#[async_trait]
impl Store for RedisStore {
    async fn create_instance(&self, new: NewInstance) -> Result<ProcessInstance, StoreError> {
        let shard = match &new.business_key {
            Some(bk) if self.inner.business_keys_at_home => home_shard(bk),
            _ => self.inner.next_shard.fetch_add(1, Ordering::Relaxed) % SHARDS,
        };
        let mut inv = FUNCTIONS.create.key(self.base(shard));
        inv.arg((FIRST_PREFIX + shard) * ID_SPAN).arg(ID_SPAN);
        // What the instance's indexes depend on (`instance_indexes` in lua/common.lua), so
        // the function need not look for them among the fields.
        inv.arg(state_code(new.state))
            .arg(&new.definition_key)
            .arg(&new.tenant_id)
            .arg(u8::from(new.business_key.is_some()))
            .arg(new.business_key.as_deref().unwrap_or(""));
        let fields = encode_new(&new)?;
        inv.arg(fields.len() * 2);
        for (field, value) in fields {
            inv.arg(field).arg(value);
        }
        history_args(&mut inv, &new.activities);
        for t in &new.tasks {
            task_args(&mut inv, t)?;
        }
        let (code, rest) = status(self.invoke(inv).await?)?;
        let id = match (code.as_str(), rest.into_iter().next()) {
            ("ok", Some(id)) => parse_id(&bulk(id)?)?,
            ("dup", _) => return Err(corrupt(format!("the id counter of shard {shard} went backwards"))),
            ("full", _) => return Err(StoreError::Backend(format!("shard {shard} has used all its ids"))),
            (other, _) => return Err(corrupt(format!("unexpected create reply {other:?}"))),
        };
        Ok(new.with_id(id))
    }

    async fn commit(&self, commit: &Commit) -> Result<(ProcessInstance, Vec<Task>), StoreError> {
        let id = commit.id;
        let shard = shard_of(id);
        let mut inv = self.on_instance(&FUNCTIONS.commit, id);
        inv.arg(commit.revision)
            .arg((FIRST_PREFIX + shard) * ID_SPAN)
            .arg(ID_SPAN);
        let mut set: Vec<(String, Vec<u8>)> = Vec::new();
        let mut delete: Vec<&str> = Vec::new();
        if let Some(p) = &commit.progress {
            set.push(("s".into(), state_code(p.state).as_bytes().to_vec()));
            let mut opt = |field: &'static str, value: Option<Vec<u8>>| match value {
                Some(v) => set.push((field.into(), v)),
                None => delete.push(field),
            };
            opt("a", p.activity_id.clone().map(String::into_bytes));
            opt("x", tokens_field(&p.tokens, p.activity_id.as_deref())?);
            opt("et", p.end_time.map(|t| digits(t.0).into_bytes()));
            opt("ea", p.end_activity_id.clone().map(String::into_bytes));
        }
        for v in &commit.variables {
            set.push((variable_field(&v.name), encode_value(&v.value)?));
        }
        if let Some(status) = &commit.business_status {
            set.push(("bs".into(), status.clone().into_bytes()));
        }
        for link in &commit.links {
            set.push((link_field(link)?, Vec::new()));
        }
        inv.arg(set.len());
        for (field, value) in set {
            inv.arg(field).arg(value);
        }
        inv.arg(delete.len());
        for field in delete {
            inv.arg(field);
        }
        history_args(&mut inv, &commit.activities);
        for t in &commit.tasks {
            task_args(&mut inv, t)?;
        }
        let (code, rest) = status(self.invoke(inv).await?)?;
        match code.as_str() {
            "ok" => {}
            "isus" => return Err(StoreError::Conflict(Clash::InstanceSuspended(id))),
            "stale" => return Err(StoreError::Conflict(Clash::Stale(id))),
            "full" => return Err(StoreError::Backend(format!("shard {shard} has used all its ids"))),
            _ => return Err(failure(id, &code, rest)),
        }
        let mut rest = rest.into_iter();
        let hash = rest
            .next()
            .ok_or_else(|| corrupt("commit reply without the instance"))?;
        let instance = decode_instance(id, unpack(&bulk(hash)?)?)?;
        let mut tasks = Vec::with_capacity(commit.tasks.len());
        for (t, written) in commit.tasks.iter().zip(rest) {
            tasks.push(Task {
                id: TaskId(parse_id(&bulk(written)?)?.0),
                instance_id: id,
                ..t.clone()
            });
        }
        Ok((instance, tasks))
    }

    async fn deploy(&self, new: &NewDeployment) -> Result<Deployed, StoreError> {
        let d = &new.deployment;
        let mut inv = FUNCTIONS.deploy.key(&self.inner.repo);
        inv.arg(if new.dedupe { "1" } else { "0" })
            .arg(format!("{}\n{}", d.tenant_id, d.name.as_deref().unwrap_or("")))
            .arg(resources_digest(&new.resources))
            .arg(serde_json::to_vec(d).map_err(corrupt)?)
            .arg(&self.inner.channel)
            .arg(new.resources.len());
        for r in &new.resources {
            inv.arg(&r.name).arg(&r.bytes);
        }
        for p in &new.definitions {
            inv.arg(format!("{}\n{}", p.tenant_id, p.key))
                .arg(&p.key)
                .arg(serde_json::to_vec(p).map_err(corrupt)?);
        }
        let (code, rest) = status(self.invoke(inv).await?)?;
        let mut rest = rest.into_iter();
        let id = String::from_utf8(bulk(
            rest.next().ok_or_else(|| corrupt("deploy reply without id"))?,
        )?)
        .map_err(corrupt)?;
        self.inner.repository_version.fetch_add(1, Ordering::AcqRel);
        match code.as_str() {
            "ok" => {
                let mut definitions = Vec::with_capacity(new.definitions.len());
                for (p, def_id) in new.definitions.iter().zip(rest) {
                    let def_id = String::from_utf8(bulk(def_id)?).map_err(corrupt)?;
                    definitions.push(stored_definition(def_id, p.clone())?);
                }
                Ok(Deployed {
                    deployment: Deployment { id, ..d.clone() },
                    definitions,
                    created: true,
                })
            }
            "dup" => {
                let repo = self.repository().await?;
                let deployment = repo
                    .deployments
                    .into_iter()
                    .find(|x| x.id == id)
                    .ok_or_else(|| corrupt(format!("deployment {id} is gone")))?;
                let definitions = repo
                    .definitions
                    .into_iter()
                    .filter(|p| p.deployment_id.as_deref() == Some(id.as_str()))
                    .collect();
                Ok(Deployed {
                    deployment,
                    definitions,
                    created: false,
                })
            }
            other => Err(corrupt(format!("unexpected deploy reply {other:?}"))),
        }
    }

    async fn repository(&self) -> Result<Repository, StoreError> {
        let repo = &self.inner.repo;
        let mut pipe = redis::pipe();
        pipe.cmd("HGETALL").arg([repo, "d"].concat());
        pipe.cmd("HGETALL").arg([repo, "p"].concat());
        let mut con = self.con();
        let (deployments, definitions): (Vec<(String, Vec<u8>)>, Vec<(String, Vec<u8>)>) =
            bounded(pipe.query_async(&mut con)).await?;
        let mut out = Repository::default();
        for (id, json) in deployments {
            let d: Deployment =
                serde_json::from_slice(&json).map_err(|e| corrupt(format!("deployment {id}: {e}")))?;
            out.deployments.push(Deployment { id, ..d });
        }
        for (id, json) in definitions {
            let p: ProcessDefinition =
                serde_json::from_slice(&json).map_err(|e| corrupt(format!("definition {id}: {e}")))?;
            out.definitions.push(stored_definition(id, p)?);
        }
        Ok(out)
    }

    async fn resource(&self, deployment: &str, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut con = self.con();
        bounded(
            redis::cmd("HGET")
                .arg([self.inner.repo.as_str(), "r:", deployment].concat())
                .arg(name)
                .query_async(&mut con),
        )
        .await
    }

    async fn delete_deployment(&self, id: &str) -> Result<(), StoreError> {
        let mut inv = FUNCTIONS.undeploy.key(&self.inner.repo);
        inv.arg(id).arg(&self.inner.channel);
        let (code, _) = status(self.invoke(inv).await?)?;
        self.inner.repository_version.fetch_add(1, Ordering::AcqRel);
        match code.as_str() {
            "ok" => Ok(()),
            "nf" => Err(StoreError::NotFound(Missing::Deployment(id.to_owned()))),
            other => Err(corrupt(format!("unexpected undeploy reply {other:?}"))),
        }
    }

    fn repository_version(&self) -> u64 {
        self.inner.repository_version.load(Ordering::Acquire)
    }

    async fn put_token(
        &self,
        token: &str,
        user: &str,
        _now: Timestamp,
        expires: Timestamp,
    ) -> Result<(), StoreError> {
        let mut con = self.con();
        let key = [self.inner.prefix.as_str(), "tok:", token].concat();
        let _: Value = bounded(
            redis::cmd("SET")
                .arg(key)
                .arg(user)
                .arg("PXAT")
                .arg(expires.0)
                .query_async(&mut con),
        )
        .await?;
        Ok(())
    }

    async fn token_user(&self, token: &str, _now: Timestamp) -> Result<Option<String>, StoreError> {
        // Redis expires the key itself (PXAT); Redis' clock is the reference on this store.
        let mut con = self.con();
        let key = [self.inner.prefix.as_str(), "tok:", token].concat();
        bounded(redis::cmd("GET").arg(key).query_async(&mut con)).await
    }

    async fn activity_history(&self, id: InstanceId) -> Result<Vec<ActivityRecord>, StoreError> {
        let mut con = self.con();
        let key = [self.base(shard_of(id)), "h:", &digits(id.0)].concat();
        let h: Vec<(String, String)> = bounded(redis::cmd("HGETALL").arg(key).query_async(&mut con)).await?;
        let mut records = h
            .into_iter()
            .map(|(key, value)| decode_record(key, &value))
            .collect::<Result<Vec<_>, _>>()?;
        records.sort_by(record_order);
        Ok(records)
    }

    async fn add_comment(&self, comment: &Comment) -> Result<Comment, StoreError> {
        let id = comment.instance_id;
        let mut inv = self.on_instance(&FUNCTIONS.comment, id);
        inv.arg(serde_json::to_vec(comment).map_err(corrupt)?);
        let (code, rest) = status(self.invoke(inv).await?)?;
        match (code.as_str(), rest.first()) {
            ("ok", Some(Value::Int(n))) => Ok(Comment {
                id: format!("{id}-{n}"),
                ..comment.clone()
            }),
            (code, _) => Err(failure(id, code, rest)),
        }
    }

    async fn write_items(&self, items: &[Item]) -> Result<Vec<bool>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut inv = FUNCTIONS.items.key(&self.inner.items);
        inv.arg(items.len());
        for item in items {
            inv.arg(&item.id)
                .arg(&item.entity)
                .arg(item.catalog())
                .arg(serde_json::to_vec(item).map_err(corrupt)?);
        }
        array(self.invoke(inv).await?)?
            .into_iter()
            .map(|v| match v {
                Value::Int(n) => Ok(n == 1),
                other => Err(corrupt(format!("write_items answered {other:?}"))),
            })
            .collect()
    }

    async fn get_item(&self, id: &str) -> Result<Option<Item>, StoreError> {
        let mut con = self.con();
        let key = [self.inner.items.as_str(), "it:", id].concat();
        let json: Option<Vec<u8>> = bounded(redis::cmd("GET").arg(key).query_async(&mut con)).await?;
        json.map(|j| serde_json::from_slice(&j).map_err(corrupt))
            .transpose()
    }

    async fn list_items(
        &self,
        entity: &str,
        catalog: &str,
        start: usize,
        size: usize,
    ) -> Result<Page<Item>, StoreError> {
        let mut con = self.con();
        let index = [self.inner.items.as_str(), "ix:", entity, ":", catalog].concat();
        let total: u64 = bounded(redis::cmd("ZCARD").arg(&index).query_async(&mut con)).await?;
        let ids: Vec<String> = if size == 0 || start as u64 >= total {
            Vec::new()
        } else {
            let stop = start.saturating_add(size).saturating_sub(1);
            bounded(
                redis::cmd("ZRANGE")
                    .arg(&index)
                    .arg(start)
                    .arg(stop)
                    .query_async(&mut con),
            )
            .await?
        };
        let mut items = Vec::with_capacity(ids.len());
        if !ids.is_empty() {
            let keys: Vec<String> = ids
                .iter()
                .map(|id| [self.inner.items.as_str(), "it:", id].concat())
                .collect();
            let values: Vec<Option<Vec<u8>>> =
                bounded(redis::cmd("MGET").arg(keys).query_async(&mut con)).await?;
            for v in values.into_iter().flatten() {
                items.push(serde_json::from_slice(&v).map_err(corrupt)?);
            }
        }
        Ok(Page { items, total, start })
    }

    async fn comments(&self, id: InstanceId) -> Result<Vec<Comment>, StoreError> {
        let mut con = self.con();
        let key = [self.base(shard_of(id)), "cm:", &digits(id.0)].concat();
        let items: Vec<Vec<u8>> =
            bounded(redis::cmd("LRANGE").arg(key).arg(0).arg(-1).query_async(&mut con)).await?;
        items
            .iter()
            .enumerate()
            .map(|(n, json)| {
                let c: Comment = serde_json::from_slice(json).map_err(corrupt)?;
                Ok(Comment {
                    id: format!("{id}-{}", n + 1),
                    ..c
                })
            })
            .collect()
    }

    async fn get_task(&self, id: TaskId) -> Result<Option<Task>, StoreError> {
        let mut con = self.con();
        let key = [self.base(shard_of(InstanceId(id.0))), "tk:", &digits(id.0)].concat();
        let hash: Value = bounded(redis::cmd("HGETALL").arg(key).query_async(&mut con)).await?;
        let fields = pairs(hash)?;
        if fields.is_empty() {
            return Ok(None);
        }
        decode_task(id, fields).map(Some)
    }

    async fn list_tasks(&self, query: &TaskQuery) -> Result<Page<Task>, StoreError> {
        let f = &query.filter;
        let (indexes, extra) = task_indexes(f);
        let shards: Vec<u64> = match f.instance_id {
            Some(id) => vec![shard_of(id)],
            None => (0..SHARDS).collect(),
        };
        let calls = shards.into_iter().map(|shard| {
            let mut inv = FUNCTIONS.tasks.key(self.base(shard));
            match f.instance_id {
                Some(id) => {
                    inv.arg("inst").arg(id.0);
                }
                None => {
                    inv.arg("idx").arg(indexes.len());
                    for index in &indexes {
                        inv.arg(index);
                    }
                    inv.arg(extra);
                }
            }
            self.invoke(inv)
        });
        let mut hits = Vec::new();
        for reply in try_join_all(calls).await? {
            let mut parts = array(reply)?.into_iter();
            while let (Some(id), Some(packed)) = (parts.next(), parts.next()) {
                let id = TaskId(parse_id(&bulk(id)?)?.0);
                let task = decode_task(id, unpack(&bulk(packed)?)?)?;
                if f.matches(&task) {
                    hits.push(task);
                }
            }
        }
        hits.sort_by(|a, b| query.compare(a, b));
        Ok(Page {
            total: hits.len() as u64,
            items: hits.into_iter().skip(query.start).take(query.size).collect(),
            start: query.start,
        })
    }

    async fn get_instance(&self, id: InstanceId) -> Result<Option<ProcessInstance>, StoreError> {
        let mut con = self.con();
        let hash: Value = bounded(
            redis::cmd("HGETALL")
                .arg(self.instance_key(id))
                .query_async(&mut con),
        )
        .await?;
        let fields = pairs(hash)?;
        if fields.is_empty() {
            return Ok(None);
        }
        decode_instance(id, fields).map(Some)
    }

    async fn list_instances(&self, query: &InstanceQuery) -> Result<Page<ProcessInstance>, StoreError> {
        if query.filter.impossible {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
                start: query.start,
            });
        }
        match fast_index(query) {
            Some(index) => self.list_fast(query, &index).await,
            None => self.list_general(query).await,
        }
    }

    async fn update_instance(&self, change: &UpdateInstance) -> Result<ProcessInstance, StoreError> {
        let mut set: Vec<(&str, Vec<u8>)> = Vec::new();
        let mut delete: Vec<&str> = Vec::new();
        if let Some(v) = &change.name {
            set.push(("nm", v.clone().into_bytes()));
        }
        if let Some(v) = &change.business_key {
            set.push(("b", v.clone().into_bytes()));
            // Away from its new key's home shard, the instance is a stray that lookups of
            // that key must look for on every shard: marked before it can be one (a mark
            // left by an update that then fails only costs lookups a fan-out).
            let home = home_shard(v);
            if self.inner.business_keys_at_home && home != shard_of(change.id) {
                let mut con = self.con();
                let key = [self.base(home), "bks"].concat();
                let _: Value =
                    bounded(redis::cmd("HSET").arg(key).arg(v).arg("1").query_async(&mut con)).await?;
            }
        }
        if let Some(v) = &change.business_status {
            set.push(("bs", v.clone().into_bytes()));
        }
        if let Some(v) = change.due_date {
            set.push(("dd", digits(v.0).into_bytes()));
        }
        match &change.claim {
            Some(Some(claim)) => {
                set.push(("cb", claim.user.clone().into_bytes()));
                set.push(("ct", digits(claim.at.0).into_bytes()));
            }
            Some(None) => delete.extend(["cb", "ct"]),
            None => {}
        }
        let mut inv = self.on_instance(&FUNCTIONS.update, change.id);
        inv.arg(set.len());
        for (field, value) in set {
            inv.arg(field).arg(value);
        }
        for field in delete {
            inv.arg(field);
        }
        instance_reply(change.id, self.invoke(inv).await?)
    }

    async fn set_suspended(&self, id: InstanceId, suspended: bool) -> Result<ProcessInstance, StoreError> {
        let mut inv = self.on_instance(&FUNCTIONS.suspend, id);
        inv.arg(if suspended { "1" } else { "0" });
        instance_reply(id, self.invoke(inv).await?)
    }

    async fn close_instances(&self, ids: &[InstanceId], closing: &Closing) -> Result<(), StoreError> {
        let mut by_shard: BTreeMap<u64, Vec<InstanceId>> = BTreeMap::new();
        for id in ids {
            by_shard.entry(shard_of(*id)).or_default().push(*id);
        }
        // The first id (in the caller's order) that is unknown or closed, if any.
        let first_missing = |missing: Vec<Option<InstanceId>>| {
            missing
                .into_iter()
                .flatten()
                .min_by_key(|m| ids.iter().position(|id| id == m))
        };
        if by_shard.len() > 1 {
            let checks = by_shard
                .iter()
                .map(|(shard, ids)| self.close_on_shard("check", *shard, ids, closing));
            if let Some(id) = first_missing(try_join_all(checks).await?) {
                return Err(StoreError::NotFound(Missing::Instance(id)));
            }
        }
        let applies = by_shard
            .iter()
            .map(|(shard, ids)| self.close_on_shard("apply", *shard, ids, closing));
        match first_missing(try_join_all(applies).await?) {
            Some(id) => Err(StoreError::NotFound(Missing::Instance(id))),
            None => Ok(()),
        }
    }

    async fn add_identity_link(&self, id: InstanceId, link: &IdentityLink) -> Result<(), StoreError> {
        let mut inv = self.on_instance(&FUNCTIONS.add_link, id);
        inv.arg(link_field(link)?);
        unit_reply(id, self.invoke(inv).await?)
    }

    async fn remove_identity_link(&self, id: InstanceId, link: &IdentityLink) -> Result<(), StoreError> {
        let mut inv = self.on_instance(&FUNCTIONS.remove_link, id);
        inv.arg(link_field(link)?);
        let (code, rest) = status(self.invoke(inv).await?)?;
        match code.as_str() {
            "ok" => Ok(()),
            "lm" => Err(StoreError::NotFound(Missing::IdentityLink {
                instance: id,
                link: link.clone(),
            })),
            _ => Err(failure(id, &code, rest)),
        }
    }

    async fn set_variables(
        &self,
        id: InstanceId,
        variables: &[Variable],
        mode: SetMode,
    ) -> Result<ProcessInstance, StoreError> {
        let mut inv = self.on_instance(&FUNCTIONS.set_vars, id);
        inv.arg(match mode {
            SetMode::Create => "create",
            SetMode::Upsert => "upsert",
            SetMode::Update => "update",
        });
        for v in variables {
            inv.arg(variable_field(&v.name)).arg(encode_value(&v.value)?);
        }
        instance_reply(id, self.invoke(inv).await?)
    }

    async fn delete_variables(&self, id: InstanceId, name: Option<&str>) -> Result<(), StoreError> {
        let mut inv = self.on_instance(&FUNCTIONS.delete_vars, id);
        if let Some(name) = name {
            inv.arg(variable_field(name));
        }
        unit_reply(id, self.invoke(inv).await?)
    }
}

/// The version of the key layout and value formats below. A store written in another layout
/// is refused at start-up rather than misread (a changed value format cannot be read by a
/// binary that does not know it); bump it with every incompatible change, and teach
/// [`migrate`] to bring the previous ones up to it. Layout 1 kept every index as one sorted
/// set; layout 2 chunked all but the business-key ones; layout 3 keeps business keys in bucket
/// hashes; layout 4 is layout 3's data plus a placement rule: an instance started with a
/// business key lives on that key's home shard ([`home_shard`]), so a business-key lookup
/// reads one shard. Layout 5 is layout 4 with each index's count in a string of its own
/// (`n:<index>`) instead of a field of the shard's hash `n`, so a list reads every shard's
/// count with one `MGET`, and an instance's rarely set fields packed into one (`PACKED_FIELDS`). A store converted from layouts 1 to 3 (its instances placed
/// round-robin) cannot be given the placement rule without changing ids, so it becomes
/// [`LAYOUT_ROUND_ROBIN`]: layout 5's keys, instances placed round-robin as before, and
/// business-key lookups that fan out over all shards.
pub const LAYOUT: &str = "5";
/// Layout 5 without the placement rule, which this binary serves too.
pub const LAYOUT_ROUND_ROBIN: &str = "5-round-robin";

/// The layout of the data under `prefix`: its marker, else `1` when a shard has data (stores
/// written before the marker existed), else `None` (an empty store).
async fn recorded_layout(
    con: &mut impl redis::aio::ConnectionLike,
    prefix: &str,
) -> Result<Option<String>, StoreError> {
    let key = format!("{prefix}{{repo}}:layout");
    let found: Option<String> = bounded(redis::cmd("GET").arg(&key).query_async(con)).await?;
    if found.is_some() {
        return Ok(found);
    }
    for shard in 0..SHARDS {
        let seq = format!("{prefix}{{s{shard}}}:seq");
        let exists: bool = bounded(redis::cmd("EXISTS").arg(seq).query_async(con)).await?;
        if exists {
            return Ok(Some("1".into()));
        }
    }
    Ok(None)
}

/// Records the layout in `P{repo}:layout` on an empty store, and refuses a store in a layout
/// this binary does not serve, naming the command that migrates it. Answers whether the store
/// keeps the business-key placement rule ([`LAYOUT`], not [`LAYOUT_ROUND_ROBIN`]).
async fn check_layout(con: &mut ConnectionManager, prefix: &str) -> Result<bool, StoreError> {
    let key = format!("{prefix}{{repo}}:layout");
    if recorded_layout(con, prefix).await?.is_none() {
        let _: Value = bounded(redis::cmd("SET").arg(&key).arg(LAYOUT).arg("NX").query_async(con)).await?;
    }
    match recorded_layout(con, prefix).await?.as_deref() {
        Some(LAYOUT) => Ok(true),
        Some(LAYOUT_ROUND_ROBIN) => Ok(false),
        Some(old @ ("1" | "2" | "3" | "4")) => Err(StoreError::Backend(format!(
            "the data under prefix {prefix:?} is in layout {old} ({key}); this binary reads layout {LAYOUT}: \
             stop every server on it and run `bpm-compat migrate-store --store <url> --redis-prefix {prefix:?}`"
        ))),
        other => Err(StoreError::Backend(format!(
            "the data under prefix {prefix:?} is in layout {} ({key}); this binary reads layout {LAYOUT}",
            other.unwrap_or("none")
        ))),
    }
}

/// What [`migrate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The layout the data was in (`None`: the store was empty).
    pub from: Option<String>,
    /// The layout it is in now: [`LAYOUT`] for an empty store or one from layout 4,
    /// [`LAYOUT_ROUND_ROBIN`] for one from layouts 1 to 3 (its instances keep their round-robin
    /// placement, see [`LAYOUT`]), else `from`.
    pub to: String,
    /// Indexes converted, and the ids they held.
    pub indexes: u64,
    pub entries: u64,
    /// Index counts moved out of the shards' `n` hashes.
    pub counts: u64,
    /// Instances whose rarely set fields were packed into one (`PACKED_FIELDS`).
    pub rows: u64,
}

/// Brings the data under `prefix` to a layout this binary serves (an offline job: no server
/// may write the store meanwhile). First each shard's index counts move out of its hash `n`
/// into strings (layouts 2 to 4; one atomic call per shard) and its instances' rarely set
/// fields into their packed field (`step` instances per call), then every index that is still a
/// plain sorted set (all of them in layout 1, the business-key ones in layout 2) becomes what
/// this layout makes of it, found with `SCAN` and moved by atomic calls of up to 1,000 ids
/// each. Interrupted, it can simply run again: the new keys have other names, and what is left
/// of an old one is moved on. A store already in [`LAYOUT`] or [`LAYOUT_ROUND_ROBIN`] is left
/// alone.
pub async fn migrate(url: &str, prefix: &str) -> Result<Migration, StoreError> {
    migrate_in_steps(url, prefix, 1000).await
}

/// [`migrate`], moving at most `step` ids per atomic script call (at least 1).
pub async fn migrate_in_steps(url: &str, prefix: &str, step: u32) -> Result<Migration, StoreError> {
    let client = redis::Client::open(url).map_err(backend)?;
    let mut con = match tokio::time::timeout(CONNECT_TIMEOUT, client.get_multiplexed_async_connection()).await
    {
        Ok(con) => con.map_err(backend)?,
        Err(_) => {
            return Err(StoreError::Backend(format!(
                "Redis did not answer within {CONNECT_TIMEOUT:?}"
            )))
        }
    };
    let from = recorded_layout(&mut con, prefix).await?;
    let mut done = Migration {
        from: from.clone(),
        to: from.clone().unwrap_or_else(|| LAYOUT.to_owned()),
        indexes: 0,
        entries: 0,
        counts: 0,
        rows: 0,
    };
    let old = match from.as_deref() {
        Some(LAYOUT | LAYOUT_ROUND_ROBIN) => return Ok(done),
        None => None,
        Some(old @ ("1" | "2" | "3" | "4")) => Some(old),
        Some(other) => {
            return Err(StoreError::Backend(format!(
                "the data under prefix {prefix:?} is in layout {other}, which this binary cannot migrate"
            )))
        }
    };
    // The counts first, so that indexes moved below count on from them; then the instances'
    // rarely set fields, packed, a batch of `step` instances per call.
    if old.is_some() {
        for shard in 0..SHARDS {
            let base = format!("{prefix}{{s{shard}}}:");
            let moved: u64 = FUNCTIONS.migrate_counts.key(&base).run(&mut con).await?;
            done.counts += moved;
            let ids: Vec<Vec<u8>> = scan(&mut con, &format!("{base}i:"))
                .await?
                .into_iter()
                .map(|key| key[base.len() + 2..].to_vec())
                .collect();
            for batch in ids.chunks(step.max(1) as usize) {
                let mut call = FUNCTIONS.migrate_rows.key(&base);
                call.arg(batch);
                let packed: u64 = call.run(&mut con).await?;
                done.rows += packed;
            }
        }
    }
    let to = match old {
        None | Some("4") => LAYOUT,
        Some("1" | "2") => {
            for shard in 0..SHARDS {
                let base = format!("{prefix}{{s{shard}}}:");
                for key in scan(&mut con, &base).await? {
                    let suffix = &key[base.len()..];
                    if !old_index(suffix) {
                        continue;
                    }
                    let mut moved_any = false;
                    loop {
                        let mut inv = FUNCTIONS.migrate.key(&base);
                        inv.arg(suffix).arg(step.max(1));
                        let moved: i64 = inv.run(&mut con).await?;
                        match u64::try_from(moved) {
                            Ok(moved) if moved > 0 => {
                                moved_any = true;
                                done.entries += moved;
                            }
                            _ => break,
                        }
                    }
                    done.indexes += u64::from(moved_any);
                }
            }
            LAYOUT_ROUND_ROBIN
        }
        Some(_) => LAYOUT_ROUND_ROBIN,
    };
    let key = format!("{prefix}{{repo}}:layout");
    let _: Value = bounded(redis::cmd("SET").arg(key).arg(to).query_async(&mut con)).await?;
    done.to = to.to_owned();
    Ok(done)
}

/// Whether a shard key's suffix names an index as layouts 1 and 2 kept it: a plain sorted set
/// (layouts 3 to 5 name none of their keys so).
fn old_index(suffix: &[u8]) -> bool {
    matches!(suffix, b"open" | b"sus" | b"closed" | b"to" | b"td")
        || [&b"k:"[..], b"t:", b"ta:", b"tu:", b"tg:", b"b:"]
            .iter()
            .any(|family| suffix.starts_with(family))
}

/// Every key that starts with `prefix` (glob characters in it escaped).
async fn scan(con: &mut redis::aio::MultiplexedConnection, prefix: &str) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('*');
    let (mut cursor, mut keys) = (0u64, Vec::new());
    loop {
        let (next, batch): (u64, Vec<Vec<u8>>) = bounded(
            redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(con),
        )
        .await?;
        keys.extend(batch);
        if next == 0 {
            return Ok(keys);
        }
        cursor = next;
    }
}

// ---- script replies ----

/// Splits a script's `{code, ...}` reply.
fn status(reply: Value) -> Result<(String, Vec<Value>), StoreError> {
    let mut parts = array(reply)?.into_iter();
    let code = parts.next().ok_or_else(|| corrupt("empty script reply"))?;
    let code = String::from_utf8(bulk(code)?).map_err(corrupt)?;
    Ok((code, parts.collect()))
}

/// The `StoreError` a failed precondition's code stands for, as the memory store answers it.
fn failure(id: InstanceId, code: &str, rest: Vec<Value>) -> StoreError {
    let name = || -> Result<String, StoreError> {
        let field = rest
            .into_iter()
            .next()
            .ok_or_else(|| corrupt("reply without a field"))?;
        let field = String::from_utf8(bulk(field)?).map_err(corrupt)?;
        field
            .strip_prefix("v:")
            .map(str::to_owned)
            .ok_or_else(|| corrupt(format!("not a variable field: {field:?}")))
    };
    match code {
        "nf" => StoreError::NotFound(Missing::Instance(id)),
        "sus" => StoreError::Conflict(Clash::AlreadySuspended(id)),
        "act" => StoreError::Conflict(Clash::AlreadyActive(id)),
        "vx" => match name() {
            Ok(name) => StoreError::Conflict(Clash::VariableExists { instance: id, name }),
            Err(e) => e,
        },
        "vm" => match name() {
            Ok(name) => StoreError::NotFound(Missing::Variable { instance: id, name }),
            Err(e) => e,
        },
        other => corrupt(format!("unexpected script reply {other:?}")),
    }
}

/// A `{'ok', hash}` reply, or the failure its code stands for.
fn instance_reply(id: InstanceId, reply: Value) -> Result<ProcessInstance, StoreError> {
    let (code, rest) = status(reply)?;
    if code != "ok" {
        return Err(failure(id, &code, rest));
    }
    let hash = rest
        .into_iter()
        .next()
        .ok_or_else(|| corrupt("reply without the instance"))?;
    decode_instance(id, unpack(&bulk(hash)?)?)
}

/// A `{'ok'}` reply, or the failure its code stands for.
fn unit_reply(id: InstanceId, reply: Value) -> Result<(), StoreError> {
    let (code, rest) = status(reply)?;
    if code == "ok" {
        Ok(())
    } else {
        Err(failure(id, &code, rest))
    }
}

fn array(v: Value) -> Result<Vec<Value>, StoreError> {
    match v {
        Value::Array(items) | Value::Set(items) => Ok(items),
        other => Err(corrupt(format!("expected an array, got {other:?}"))),
    }
}

fn bulk(v: Value) -> Result<Vec<u8>, StoreError> {
    match v {
        Value::BulkString(b) => Ok(b),
        Value::SimpleString(s) => Ok(s.into_bytes()),
        Value::Int(n) => Ok(digits(n).into_bytes()),
        other => Err(corrupt(format!("expected a string, got {other:?}"))),
    }
}

fn bulk_list(v: Value) -> Result<Vec<Vec<u8>>, StoreError> {
    array(v)?.into_iter().map(bulk).collect()
}

/// The scalar fields of an instance hash (module docs), everything but variables, identity
/// links and the task list: `decode_instance` keeps one slot per field in this order, and a
/// list without details reads just these.
const SCALAR_FIELDS: [&str; 18] = [
    "c", "k", "t", "nm", "b", "bs", "s", "a", "et", "dd", "cb", "ct", "dr", "su", "o", "x", "ea", "r",
];

/// The scalar fields an instance keeps packed in its field `z` (a MessagePack array of
/// field/value strings, written by [`pack`] for a new instance and changed by `inst_write` in
/// lua/common.lua) rather than as fields of
/// their own: set on few instances, each cost every listed instance a nil to ask for and
/// parse (an `HMGET` of ten fields costs Redis 0.65 µs where fifteen cost 1.00).
const PACKED_FIELDS: [&str; 6] = ["nm", "bs", "dd", "cb", "ct", "x"];

/// The scalar fields an open instance can have: all but those closing it writes (end time,
/// delete reason, end activity). The fast path lists open instances only (an instance closed
/// while the page is read shows it in its state, and the filter drops it), so a list without
/// details asks for these alone.
static OPEN_FIELDS: LazyLock<Vec<&str>> = LazyLock::new(|| {
    SCALAR_FIELDS
        .into_iter()
        .filter(|f| !["et", "dr", "ea"].contains(f) && !PACKED_FIELDS.contains(f))
        .chain(["z"])
        .collect()
});

/// A hash's field/value pairs.
type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// The fields an `HMGET` of [`OPEN_FIELDS`] found (none: the instance does not exist).
fn open_fields(id: InstanceId, row: Value) -> Result<Vec<(&'static str, Vec<u8>)>, StoreError> {
    let mut found = Vec::with_capacity(OPEN_FIELDS.len());
    for (field, value) in OPEN_FIELDS.iter().zip(array(row)?) {
        match value {
            Value::BulkString(value) => found.push((*field, value)),
            Value::Nil => {}
            other => return Err(corrupt(format!("instance {id}, field {field}: {other:?}"))),
        }
    }
    Ok(found)
}

/// A hash as field/value pairs (a flat RESP2 array, or a RESP3 map).
fn pairs(v: Value) -> Result<Fields, StoreError> {
    if let Value::Map(entries) = v {
        return entries
            .into_iter()
            .map(|(f, v)| Ok((bulk(f)?, bulk(v)?)))
            .collect();
    }
    let flat = bulk_list(v)?;
    if flat.len() % 2 != 0 {
        return Err(corrupt("hash reply with an odd number of items"));
    }
    let mut out = Vec::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(f), Some(v)) = (it.next(), it.next()) {
        out.push((f, v));
    }
    Ok(out)
}

fn parse_id(raw: &[u8]) -> Result<InstanceId, StoreError> {
    std::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| corrupt(format!("bad instance id {:?}", String::from_utf8_lossy(raw))))
}

/// `{id, packed hash, id, packed hash ...}` from `gather.lua`.
fn decode_gathered(reply: Value) -> Result<Vec<ProcessInstance>, StoreError> {
    let mut it = array(reply)?.into_iter();
    let mut out = Vec::new();
    while let Some(id) = it.next() {
        let id = parse_id(&bulk(id)?)?;
        let packed = bulk(it.next().ok_or_else(|| corrupt("gather reply without a hash"))?)?;
        out.push(decode_instance(id, unpack(&packed)?)?);
    }
    Ok(out)
}

/// Decodes a MessagePack array of strings (what `cmsgpack.pack` makes of an `HGETALL`
/// reply) into field/value pairs. Only the array and string/binary forms occur.
fn unpack(packed: &[u8]) -> Result<Fields, StoreError> {
    fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], StoreError> {
        if buf.len() < n {
            return Err(corrupt("packed hash cut short"));
        }
        let (head, rest) = buf.split_at(n);
        *buf = rest;
        Ok(head)
    }
    fn length(buf: &mut &[u8], bytes: usize) -> Result<usize, StoreError> {
        Ok(take(buf, bytes)?
            .iter()
            .fold(0usize, |n, b| (n << 8) | usize::from(*b)))
    }
    let mut buf = packed;
    let tag = take(&mut buf, 1)?[0];
    let count = match tag {
        0x90..=0x9f => usize::from(tag & 0x0f),
        0xdc => length(&mut buf, 2)?,
        0xdd => length(&mut buf, 4)?,
        _ => return Err(corrupt("packed hash is not an array")),
    };
    if count % 2 != 0 {
        return Err(corrupt("packed hash with an odd number of items"));
    }
    let mut items = Vec::with_capacity(count);
    for _ in 0..count {
        let tag = take(&mut buf, 1)?[0];
        let len = match tag {
            0xa0..=0xbf => usize::from(tag & 0x1f),
            0xd9 | 0xc4 => length(&mut buf, 1)?,
            0xda | 0xc5 => length(&mut buf, 2)?,
            0xdb | 0xc6 => length(&mut buf, 4)?,
            _ => return Err(corrupt("packed hash item is not a string")),
        };
        items.push(take(&mut buf, len)?.to_vec());
    }
    if !buf.is_empty() {
        return Err(corrupt("packed hash with trailing bytes"));
    }
    let mut out = Vec::with_capacity(count / 2);
    let mut it = items.into_iter();
    while let (Some(f), Some(v)) = (it.next(), it.next()) {
        out.push((f, v));
    }
    Ok(out)
}

/// Encodes field/value pairs as a MessagePack array of strings, what [`unpack`] and Lua's
/// `cmsgpack.unpack` read (the packed field `z` of a new instance).
fn pack<'a>(pairs: impl ExactSizeIterator<Item = (&'a str, &'a [u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    // Lengths beyond u32 cannot occur: request bodies are capped far below.
    let items = pairs.len() * 2;
    match u16::try_from(items) {
        Ok(n) if n < 16 => out.push(0x90 | n as u8),
        Ok(n) => {
            out.push(0xdc);
            out.extend(n.to_be_bytes());
        }
        Err(_) => {
            out.push(0xdd);
            out.extend((items as u32).to_be_bytes());
        }
    }
    for (field, value) in pairs {
        for item in [field.as_bytes(), value] {
            let n = item.len();
            if n < 32 {
                out.push(0xa0 | n as u8);
            } else if let Ok(n) = u8::try_from(n) {
                out.extend([0xd9, n]);
            } else if let Ok(n) = u16::try_from(n) {
                out.push(0xda);
                out.extend(n.to_be_bytes());
            } else {
                out.push(0xdb);
                out.extend((n as u32).to_be_bytes());
            }
            out.extend_from_slice(item);
        }
    }
    out
}

// ---- the instance hash ----

fn state_code(s: InstanceState) -> &'static str {
    match s {
        InstanceState::Active => "active",
        InstanceState::Suspended => "suspended",
        InstanceState::Completed => "completed",
        InstanceState::Failed => "failed",
        InstanceState::FailedEscalated => "failedEscalated",
        InstanceState::Terminated => "terminated",
    }
}

fn parse_state(code: &str) -> Option<InstanceState> {
    Some(match code {
        "active" => InstanceState::Active,
        "suspended" => InstanceState::Suspended,
        "completed" => InstanceState::Completed,
        "failed" => InstanceState::Failed,
        "failedEscalated" => InstanceState::FailedEscalated,
        "terminated" => InstanceState::Terminated,
        _ => return None,
    })
}

/// An integer's decimal digits. `to_string` goes through the formatting machinery (~600
/// instructions), and these run several times per request.
fn digits<I: itoa::Integer>(n: I) -> String {
    itoa::Buffer::new().format(n).to_owned()
}

fn variable_field(name: &str) -> String {
    ["v:", name].concat()
}

/// `<type>:<JSON of the value>` (`long:42`, `string:"x"`, `null:`): the serde form of
/// `VariableValue` without its `{"type":..,"value":..}` wrapper, 20 bytes less per variable.
fn encode_value(value: &VariableValue) -> Result<Vec<u8>, StoreError> {
    // The common scalars directly, as the general path below writes them (test
    // `scalars_encode_as_the_general_path_does`): it builds a tagged JSON document first, ~2,000
    // instructions per variable, a tenth of the server's work on a Redis start.
    let scalar = |tag: &str, content: &str| [tag, ":", content].concat().into_bytes();
    match value {
        VariableValue::String(s) => {
            let mut out = Vec::with_capacity(s.len() + 9);
            out.extend(b"string:");
            serde_json::to_writer(&mut out, s).map_err(corrupt)?;
            return Ok(out);
        }
        VariableValue::Integer(n) => return Ok(scalar("integer", itoa::Buffer::new().format(*n))),
        VariableValue::Long(n) => return Ok(scalar("long", itoa::Buffer::new().format(*n))),
        VariableValue::Short(n) => return Ok(scalar("short", itoa::Buffer::new().format(*n))),
        VariableValue::Boolean(b) => return Ok(scalar("boolean", if *b { "true" } else { "false" })),
        // JSON has no NaN or infinity (serde_json would write `null`, which reads back as an
        // error on every later read of the instance), so those get names of their own.
        VariableValue::Double(x) => {
            if let Some(name) = non_finite_name(*x) {
                return Ok(format!("double:\"{name}\"").into_bytes());
            }
            let mut out = b"double:".to_vec();
            serde_json::to_writer(&mut out, x).map_err(corrupt)?;
            return Ok(out);
        }
        _ => {}
    }
    encode_tagged(value)
}

/// Any value: its tagged JSON form (`{"type":..,"value":..}`) written as `<type>:<value>`.
fn encode_tagged(value: &VariableValue) -> Result<Vec<u8>, StoreError> {
    let failed = |e: &dyn fmt::Display| corrupt(format!("variable does not serialize: {e}"));
    let serde_json::Value::Object(mut tagged) = serde_json::to_value(value).map_err(|e| failed(&e))? else {
        return Err(failed(&"not an object"));
    };
    let Some(serde_json::Value::String(type_name)) = tagged.remove("type") else {
        return Err(failed(&"no type tag"));
    };
    let mut out = type_name.into_bytes();
    out.push(b':');
    if let Some(content) = tagged.remove("value") {
        serde_json::to_writer(&mut out, &content).map_err(|e| failed(&e))?;
    }
    Ok(out)
}

fn non_finite_name(x: f64) -> Option<&'static str> {
    match x {
        x if x.is_nan() => Some("NaN"),
        f64::INFINITY => Some("Infinity"),
        f64::NEG_INFINITY => Some("-Infinity"),
        _ => None,
    }
}

fn decode_value(stored: &[u8]) -> Result<VariableValue, String> {
    let text = std::str::from_utf8(stored).map_err(|e| e.to_string())?;
    let (type_name, content) = text.split_once(':').ok_or("no type")?;
    match (type_name, content) {
        ("double", "\"NaN\"") => return Ok(VariableValue::Double(f64::NAN)),
        ("double", "\"Infinity\"") => return Ok(VariableValue::Double(f64::INFINITY)),
        ("double", "\"-Infinity\"") => return Ok(VariableValue::Double(f64::NEG_INFINITY)),
        _ => {}
    }
    // The common scalars directly: the general path below builds a tagged JSON document and
    // parses it, which was ~7% of the server's CPU in a Redis list (perf, ten instances of
    // five variables). Whatever does not parse here takes the general path and its errors.
    let scalar = match type_name {
        "string" => serde_json::from_str(content).ok().map(VariableValue::String),
        "integer" => content.parse().ok().map(VariableValue::Integer),
        "long" => content.parse().ok().map(VariableValue::Long),
        "short" => content.parse().ok().map(VariableValue::Short),
        "boolean" => content.parse().ok().map(VariableValue::Boolean),
        _ => None,
    };
    if let Some(value) = scalar {
        return Ok(value);
    }
    let type_name = serde_json::to_string(type_name).map_err(|e| e.to_string())?;
    // Parsed from text, not via `serde_json::Value`, so numbers decode exactly as stored.
    let tagged = if content.is_empty() {
        format!("{{\"type\":{type_name}}}")
    } else {
        format!("{{\"type\":{type_name},\"value\":{content}}}")
    };
    serde_json::from_str(&tagged).map_err(|e| e.to_string())
}

/// `l:["u"|"g",<identity>,<type>]`: canonical JSON, so one link is always one field.
fn link_field(link: &IdentityLink) -> Result<String, StoreError> {
    let (kind, who) = match &link.identity {
        Identity::User(u) => ("u", u),
        Identity::Group(g) => ("g", g),
    };
    let json = serde_json::to_string(&(kind, who, &link.link_type))
        .map_err(|e| corrupt(format!("identity link does not serialize: {e}")))?;
    Ok(["l:", &json].concat())
}

fn decode_link(json: &str) -> Result<IdentityLink, StoreError> {
    let (kind, who, link_type): (String, String, String) =
        serde_json::from_str(json).map_err(|e| corrupt(format!("identity link {json:?}: {e}")))?;
    let identity = match kind.as_str() {
        "u" => Identity::User(who),
        "g" => Identity::Group(who),
        _ => return Err(corrupt(format!("identity link {json:?}: unknown kind"))),
    };
    Ok(IdentityLink { identity, link_type })
}

fn encode_new(new: &NewInstance) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let mut out: Vec<(String, Vec<u8>)> =
        Vec::with_capacity(12 + new.variables.len() + new.identity_links.len());
    let mut put = |field: &str, value: Vec<u8>| out.push((field.to_owned(), value));
    // What never changes after the start and no script reads: one field, fewer to carry.
    // Short enough to stay under `hash-max-listpack-value` (64 bytes) for ordinary ids.
    let core = (
        &new.definition_id,
        new.definition_version,
        new.start_time.0,
        &new.start_activity_id,
    );
    put("c", serde_json::to_vec(&core).map_err(corrupt)?);
    put("k", new.definition_key.clone().into_bytes());
    if !new.tenant_id.is_empty() {
        put("t", new.tenant_id.clone().into_bytes());
    }
    put("s", state_code(new.state).as_bytes().to_vec());
    let optional = [
        ("b", &new.business_key),
        ("a", &new.activity_id),
        ("su", &new.start_user_id),
        ("o", &new.origin),
    ];
    for (field, value) in optional {
        if let Some(v) = value {
            put(field, v.clone().into_bytes());
        }
    }
    if let Some(t) = new.end_time {
        put("et", digits(t.0).into_bytes());
    }
    if let Some(ea) = &new.end_activity_id {
        put("ea", ea.clone().into_bytes());
    }
    // The packed fields a new instance can have, in `PACKED_FIELDS` order, packed here so
    // that the create function writes the hash as it is given.
    let tokens = tokens_field(&new.tokens, new.activity_id.as_deref())?;
    let packed: Vec<(&str, &[u8])> = [
        ("nm", new.name.as_deref().map(str::as_bytes)),
        ("x", tokens.as_deref()),
    ]
    .into_iter()
    .filter_map(|(field, value)| Some((field, value?)))
    .collect();
    if !packed.is_empty() {
        put("z", pack(packed.into_iter()));
    }
    for (name, value) in &new.variables {
        out.push((variable_field(name), encode_value(value)?));
    }
    for link in &new.identity_links {
        out.push((link_field(link)?, Vec::new()));
    }
    Ok(out)
}

/// A definition as stored, with what its id (`key:version:deployment`) says.
fn stored_definition(id: String, p: ProcessDefinition) -> Result<ProcessDefinition, StoreError> {
    let mut parts = id.rsplitn(3, ':');
    let (Some(deployment), Some(version)) = (parts.next(), parts.next()) else {
        return Err(corrupt(format!("definition id {id:?}")));
    };
    let version = version
        .parse()
        .map_err(|e| corrupt(format!("definition id {id:?}: {e}")))?;
    Ok(ProcessDefinition {
        version,
        deployment_id: Some(deployment.to_owned()),
        id,
        ..p
    })
}

/// The `x` field: every token, when they are more than the activity `a` alone.
fn tokens_field(tokens: &[String], activity: Option<&str>) -> Result<Option<Vec<u8>>, StoreError> {
    if tokens.iter().map(String::as_str).eq(activity) {
        return Ok(None);
    }
    serde_json::to_vec(tokens).map(Some).map_err(corrupt)
}

/// Appends a task as `write_tasks` (lua/common.lua) reads it: id (`0` when new), the number
/// of field/value arguments, then those. Like an instance, a task is a hash of small fields,
/// so it stays a compact listpack: `d` definition id, `dk` definition key (only when the id
/// does not start with it), `t` tenant (absent when empty), `k` task definition key, `n`
/// name, `ds` description, `a` assignee, `o` owner, `dl` delegation (`p`ending, `r`esolved),
/// `c:u:<user>` / `c:g:<group>` candidates, `l:<json>` other identity links (as on instances), `pr` priority (absent when 50), `ct` created,
/// `cl` claimed, `du` due, `cg` category, `fk` form key, `ai` activity record, `et` ended,
/// `dr` delete reason, `s`
/// suspended (`1`), `v:<name>` a local variable (as on instances). Lua adds `p` (the
/// instance) and changes `s`, `et` and `dr` of open tasks when their instance is suspended,
/// activated or closed.
fn task_args(inv: &mut Call, t: &Task) -> Result<(), StoreError> {
    let mut fields: Vec<(String, Vec<u8>)> = Vec::with_capacity(8 + t.candidates.len() + t.variables.len());
    let mut put = |field: &str, value: Vec<u8>| fields.push((field.to_owned(), value));
    put("d", t.definition_id.clone().into_bytes());
    if key_of(&t.definition_id) != t.definition_key {
        put("dk", t.definition_key.clone().into_bytes());
    }
    if !t.tenant_id.is_empty() {
        put("t", t.tenant_id.clone().into_bytes());
    }
    put("k", t.task_definition_key.clone().into_bytes());
    for (field, value) in [
        ("n", &t.name),
        ("ds", &t.description),
        ("a", &t.assignee),
        ("o", &t.owner),
        ("cg", &t.category),
        ("fk", &t.form_key),
        ("dr", &t.delete_reason),
        ("ai", &t.activity_instance),
    ] {
        if let Some(v) = value {
            put(field, v.clone().into_bytes());
        }
    }
    if let Some(d) = t.delegation_state {
        put(
            "dl",
            match d {
                DelegationState::Pending => b"p".to_vec(),
                DelegationState::Resolved => b"r".to_vec(),
            },
        );
    }
    if t.priority != DEFAULT_PRIORITY {
        put("pr", digits(t.priority).into_bytes());
    }
    put("ct", digits(t.create_time.0).into_bytes());
    for (field, value) in [("cl", t.claim_time), ("du", t.due_date), ("et", t.end_time)] {
        if let Some(v) = value {
            put(field, digits(v.0).into_bytes());
        }
    }
    if t.suspended {
        put("s", b"1".to_vec());
    }
    for c in &t.candidates {
        let field = match c {
            Identity::User(u) => format!("c:u:{u}"),
            Identity::Group(g) => format!("c:g:{g}"),
        };
        fields.push((field, Vec::new()));
    }
    for link in &t.links {
        fields.push((link_field(link)?, Vec::new()));
    }
    for (name, value) in &t.variables {
        fields.push((variable_field(name), encode_value(value)?));
    }
    inv.arg(t.id.0).arg(fields.len() * 2);
    for (field, value) in fields {
        inv.arg(field).arg(value);
    }
    Ok(())
}

/// Appends activity records as `write_history` (lua/common.lua) reads them: the number of
/// arguments, then key and `<start>[;<iteration>;<status>]|<activity>|<end>` (end empty while
/// open) per record.
fn history_args(inv: &mut Call, records: &[ActivityRecord]) {
    inv.arg(records.len() * 2);
    for r in records {
        inv.arg(&r.key).arg(encode_record(r));
    }
}

/// `<start>[;<iteration>;<status>]|<activity>|[<end>]`, written piece by piece (a `format!`
/// cost a start ~1,800 instructions per record).
fn encode_record(r: &ActivityRecord) -> String {
    let mut out = digits(r.start_time.0);
    if let Some(l) = &r.logged {
        out.push(';');
        out.push_str(itoa::Buffer::new().format(l.iteration));
        out.push(';');
        out.push_str(&l.status);
    }
    out.push('|');
    out.push_str(&r.activity_id);
    out.push('|');
    if let Some(end) = r.end_time {
        out.push_str(itoa::Buffer::new().format(end.0));
    }
    out
}

fn decode_record(key: String, value: &str) -> Result<ActivityRecord, StoreError> {
    let bad = || corrupt(format!("activity record {key}: {value:?}"));
    let mut parts = value.splitn(2, '|');
    let head = parts.next().ok_or_else(bad)?;
    let mut head = head.splitn(3, ';');
    let start = head.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let logged = match (head.next(), head.next()) {
        (None, _) => None,
        (Some(iteration), Some(status)) => Some(StepLog {
            iteration: iteration.parse().map_err(|_| bad())?,
            status: status.to_owned(),
        }),
        (Some(_), None) => return Err(bad()),
    };
    let (activity, end) = parts
        .next()
        .and_then(|rest| rest.rsplit_once('|'))
        .ok_or_else(bad)?;
    let end_time = match end {
        "" => None,
        e => Some(Timestamp(e.parse().map_err(|_| bad())?)),
    };
    Ok(ActivityRecord {
        activity_id: activity.to_owned(),
        start_time: Timestamp(start),
        end_time,
        key,
        logged,
    })
}

/// The key a definition id (`key:version:deployment`) starts with.
fn key_of(definition_id: &str) -> &str {
    definition_id.split(':').next().unwrap_or(definition_id)
}

fn decode_task(id: TaskId, fields: Fields) -> Result<Task, StoreError> {
    let bad = |field: &str, why: &dyn fmt::Display| corrupt(format!("task {id}, field {field:?}: {why}"));
    let mut task = Task {
        id,
        instance_id: InstanceId(0),
        definition_id: String::new(),
        definition_key: String::new(),
        tenant_id: String::new(),
        task_definition_key: String::new(),
        name: None,
        description: None,
        assignee: None,
        owner: None,
        delegation_state: None,
        candidates: Vec::new(),
        links: Vec::new(),
        priority: DEFAULT_PRIORITY,
        create_time: Timestamp(0),
        claim_time: None,
        due_date: None,
        category: None,
        form_key: None,
        suspended: false,
        end_time: None,
        delete_reason: None,
        variables: Variables::new(),
        activity_instance: None,
    };
    let mut definition_key = None;
    let (mut has_instance, mut has_definition) = (false, false);
    // Collected into a map at the end (one sort; the hash is in no particular order).
    let mut variables = Vec::new();
    for (field, value) in fields {
        let name = std::str::from_utf8(&field).map_err(|e| bad("?", &e))?;
        let text = || String::from_utf8(value.clone()).map_err(|e| bad(name, &e));
        let time =
            || -> Result<Timestamp, StoreError> { text()?.parse().map(Timestamp).map_err(|e| bad(name, &e)) };
        match name {
            "p" => {
                task.instance_id = parse_id(&value)?;
                has_instance = true;
            }
            "d" => {
                task.definition_id = text()?;
                has_definition = true;
            }
            "dk" => definition_key = Some(text()?),
            "t" => task.tenant_id = text()?,
            "k" => task.task_definition_key = text()?,
            "n" => task.name = Some(text()?),
            "ds" => task.description = Some(text()?),
            "a" => task.assignee = Some(text()?),
            "o" => task.owner = Some(text()?),
            "cg" => task.category = Some(text()?),
            "fk" => task.form_key = Some(text()?),
            "dr" => task.delete_reason = Some(text()?),
            "ai" => task.activity_instance = Some(text()?),
            "dl" => {
                task.delegation_state = Some(match value.as_slice() {
                    b"p" => DelegationState::Pending,
                    b"r" => DelegationState::Resolved,
                    _ => return Err(bad(name, &"unknown delegation state")),
                })
            }
            "pr" => task.priority = text()?.parse().map_err(|e| bad(name, &e))?,
            "ct" => task.create_time = time()?,
            "cl" => task.claim_time = Some(time()?),
            "du" => task.due_date = Some(time()?),
            "et" => task.end_time = Some(time()?),
            "s" => task.suspended = true,
            other => {
                if let Some(user) = other.strip_prefix("c:u:") {
                    task.candidates.push(Identity::User(user.to_owned()));
                } else if let Some(group) = other.strip_prefix("c:g:") {
                    task.candidates.push(Identity::Group(group.to_owned()));
                } else if let Some(json) = other.strip_prefix("l:") {
                    task.links.push(decode_link(json)?);
                } else if let Some(var) = other.strip_prefix("v:") {
                    variables.push((var.to_owned(), decode_value(&value).map_err(|e| bad(name, &e))?));
                } else {
                    return Err(bad(other, &"unknown field"));
                }
            }
        }
    }
    if !has_instance || !has_definition {
        return Err(bad(if has_instance { "d" } else { "p" }, &"missing"));
    }
    task.definition_key = definition_key.unwrap_or_else(|| key_of(&task.definition_id).to_owned());
    task.variables = variables.into_iter().collect();
    task.candidates.sort();
    task.candidates.dedup();
    task.links.sort();
    task.links.dedup();
    Ok(task)
}

/// For `list_tasks`: task indexes each of which holds every match (the shard reads the
/// smallest), and one more index to read whole (`td`, ended tasks) or none.
fn task_indexes(f: &TaskFilter) -> (Vec<String>, &'static str) {
    let want_open = f.all || f.finished != Some(true);
    let want_done = f.all || f.finished == Some(true);
    if !want_open {
        return (vec!["td".into()], "");
    }
    let mut open = vec!["to".to_owned()];
    if let Some(TextMatch::Equals(a)) = &f.assignee {
        open.push(format!("ta:{a}"));
    }
    match (&f.candidate_user, f.candidate_groups.as_deref()) {
        (Some(u), None) => open.push(format!("tu:{u}")),
        (None, Some([g])) => open.push(format!("tg:{g}")),
        _ => {}
    }
    (open, if want_done { "td" } else { "" })
}

/// The `c` field: definition id, version, start time, start activity.
type Core = (String, u32, i64, Option<String>);

fn decode_instance<F: AsRef<[u8]>>(
    id: InstanceId,
    fields: impl IntoIterator<Item = (F, Vec<u8>)>,
) -> Result<ProcessInstance, StoreError> {
    let bad = |field: &[u8], why: &dyn fmt::Display| {
        corrupt(format!(
            "instance {id}, field {:?}: {why}",
            String::from_utf8_lossy(field)
        ))
    };
    // One slot per scalar field (`SCALAR_FIELDS`, in its order), filled in a single pass (this
    // runs for every listed instance).
    let mut slots: [Option<String>; SCALAR_FIELDS.len()] = Default::default();
    // Collected into a map at the end (one sort; the hash is in no particular order).
    let mut variables = Vec::new();
    let mut identity_links = Vec::new();
    for (field, value) in fields {
        let field = field.as_ref();
        if let Some(at) = SCALAR_FIELDS.iter().position(|f| f.as_bytes() == field) {
            slots[at] = Some(String::from_utf8(value).map_err(|e| bad(field, &e))?);
            continue;
        }
        if field == b"z" {
            // The rarely set scalars, packed together (`PACKED` in lua/common.lua).
            for (name, value) in unpack(&value)? {
                let at = PACKED_FIELDS
                    .iter()
                    .find(|f| f.as_bytes() == name)
                    .and_then(|f| SCALAR_FIELDS.iter().position(|s| s == f))
                    .ok_or_else(|| bad(&name, &"not a packed field"))?;
                slots[at] = Some(String::from_utf8(value).map_err(|e| bad(&name, &e))?);
            }
            continue;
        }
        let text = std::str::from_utf8(field).map_err(|e| bad(field, &e))?;
        if let Some(var) = text.strip_prefix("v:") {
            let value = decode_value(&value).map_err(|e| bad(field, &e))?;
            variables.push((var.to_owned(), value));
        } else if let Some(json) = text.strip_prefix("l:") {
            identity_links.push(decode_link(json)?);
        } else if text.starts_with("tk:") {
            // The instance's task list, for the scripts.
        } else {
            return Err(bad(field, &"unknown field"));
        }
    }
    let [c, k, t, nm, b, bs, st, a, et, dd, cb, ct, dr, su, o, x, ea, r] = slots;
    identity_links.sort();
    identity_links.dedup();
    let required = |field: &str, v: Option<String>| v.ok_or_else(|| bad(field.as_bytes(), &"missing"));
    let time = |field: &str, v: Option<String>| -> Result<Option<Timestamp>, StoreError> {
        v.map(|v| v.parse().map(Timestamp).map_err(|e| bad(field.as_bytes(), &e)))
            .transpose()
    };
    let state_text = required("s", st)?;
    let (definition_id, definition_version, start_time, start_activity_id): Core =
        serde_json::from_str(&required("c", c)?).map_err(|e| bad(b"c", &e))?;
    let tokens: Vec<String> = match x {
        Some(x) => serde_json::from_str(&x).map_err(|e| bad(b"x", &e))?,
        None => a.iter().cloned().collect(),
    };
    let revision = r
        .map(|r| r.parse::<u64>().map_err(|e| bad(b"r", &e)))
        .transpose()?
        .unwrap_or(0);
    Ok(ProcessInstance {
        id,
        definition_id,
        definition_key: required("k", k)?,
        definition_version,
        tenant_id: t.unwrap_or_default(),
        name: nm,
        business_key: b,
        business_status: bs,
        state: parse_state(&state_text).ok_or_else(|| bad(b"s", &state_text))?,
        activity_id: a,
        tokens,
        start_activity_id,
        end_activity_id: ea,
        revision,
        start_time: Timestamp(start_time),
        end_time: time("et", et)?,
        start_user_id: su,
        due_date: time("dd", dd)?,
        claimed_by: cb,
        claim_time: time("ct", ct)?,
        delete_reason: dr,
        origin: o,
        variables: variables.into_iter().collect(),
        identity_links,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Layout 4 stores rely on where `home_shard` put each business key: these values may
    /// never change (reference values computed independently, in Python, from the definition).
    #[test]
    fn home_shards_are_fixed() {
        let homes: Vec<u64> = ["", "a", "order-1", "BK-1", "bench-999999"]
            .iter()
            .map(|bk| home_shard(bk))
            .collect();
        assert_eq!(homes, [2, 13, 6, 8, 12]);
    }

    /// The Lua prelude packs the very fields the server unpacks and leaves out of its `HMGET`s
    /// (`PACKED` and `IS_PACKED` in lua/common.lua, [`PACKED_FIELDS`] here).
    #[test]
    fn lua_and_rust_pack_the_same_fields() {
        let common = include_str!("lua/common.lua");
        let table = |name: &str| -> Vec<String> {
            let line = common
                .lines()
                .find(|l| l.starts_with(&format!("local {name} = {{")))
                .unwrap_or_else(|| panic!("lua/common.lua defines {name}"));
            let inner = &line[line.find('{').unwrap_or(0) + 1..line.rfind('}').unwrap_or(line.len())];
            inner
                .split(',')
                .map(|item| {
                    item.split('=')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .trim_matches('\'')
                        .to_owned()
                })
                .collect()
        };
        assert_eq!(table("PACKED"), PACKED_FIELDS);
        assert_eq!(table("IS_PACKED"), PACKED_FIELDS);
        assert!(OPEN_FIELDS.contains(&"z") && PACKED_FIELDS.iter().all(|f| !OPEN_FIELDS.contains(f)));
    }

    #[test]
    fn unpack_reads_messagepack_string_arrays() {
        // fixarray of 4: fixstr "s", fixstr "active", str8 of 40 bytes, str16 "x".
        let mut packed = vec![0x94, 0xa1, b's', 0xa6];
        packed.extend(b"active");
        packed.extend([0xd9, 40]);
        packed.extend([b'v'; 40]);
        packed.extend([0xda, 0, 1, b'\x00']);
        let fields = unpack(&packed).expect("well formed");
        assert_eq!(
            fields,
            vec![
                (b"s".to_vec(), b"active".to_vec()),
                (vec![b'v'; 40], b"\x00".to_vec())
            ]
        );
        for bad in [
            &[0x91, 0xa1, b's'][..],
            &[0x92, 0xa1, b's'],
            &[0x92, 0xa2, b's', 0xa0],
            &[0x80],
            &[0x92, 0x01, 0xa0],
        ] {
            assert!(matches!(unpack(bad), Err(StoreError::Corrupt(_))), "{bad:?}");
        }
        let mut trailing = vec![0x92, 0xa0, 0xa0];
        trailing.push(0);
        assert!(unpack(&trailing).is_err());
    }

    #[test]
    fn pack_writes_what_unpack_reads() {
        let long = [
            vec![b'a'; 31],
            vec![b'b'; 32],
            vec![b'c'; 255],
            vec![b'd'; 256],
            vec![b'e'; 70_000],
        ];
        let pairs: Vec<(&str, &[u8])> = ["nm", "bs", "dd", "cb", "ct", "x", "", "\u{e9}"]
            .into_iter()
            .zip(long.iter().map(Vec::as_slice).chain([&b""[..], b"\x00", b"z"]))
            .collect();
        let want: Fields = pairs
            .iter()
            .map(|(f, v)| (f.as_bytes().to_vec(), v.to_vec()))
            .collect();
        // Eight pairs: an array of 16 items, past the fixed form.
        assert_eq!(unpack(&pack(pairs.iter().copied())).expect("unpacks"), want);
        assert_eq!(
            pack(pairs[..2].iter().copied())[0],
            0x94,
            "a short array in one byte"
        );
        assert_eq!(pack(pairs.iter().copied())[..3], [0xdc, 0, 16]);
        assert_eq!(
            pack([("n", &b"v"[..])].into_iter()),
            [0x92, 0xa1, b'n', 0xa1, b'v']
        );
    }

    /// Values of every scalar type and its edge cases, a non-finite double and a document.
    fn sample_values() -> Vec<VariableValue> {
        use VariableValue as V;
        vec![
            V::String("quote \" and \\ and \u{e9} and \u{1}".into()),
            V::String(String::new()),
            V::Integer(i32::MIN),
            V::Long(i64::MAX),
            V::Short(-7),
            V::Boolean(true),
            V::Boolean(false),
            V::Double(3.5),
            V::Double(-0.0),
            V::Double(1.0),
            V::Double(0.1 + 0.2),
            V::Double(f64::MAX),
            V::Double(f64::MIN_POSITIVE / 3.0),
            V::Double(f64::NAN),
            V::Null,
            V::Json(serde_json::json!({"a": [1, 2]})),
        ]
    }

    #[test]
    fn scalars_encode_as_the_general_path_does() {
        // Non-finite doubles have names of their own; the general path cannot write them.
        let finite = sample_values()
            .into_iter()
            .filter(|v| !matches!(v, VariableValue::Double(x) if !x.is_finite()));
        for value in finite {
            assert_eq!(
                encode_value(&value).expect("encodes"),
                encode_tagged(&value).expect("encodes"),
                "{value:?}"
            );
        }
    }

    #[test]
    fn stored_values_read_back_as_written() {
        use VariableValue as V;
        for value in sample_values() {
            let stored = encode_value(&value).expect("encodes");
            let read = decode_value(&stored).expect("decodes");
            match (&value, &read) {
                (V::Double(a), V::Double(b)) if a.is_nan() => assert!(b.is_nan()),
                _ => assert_eq!(read, value, "{}", String::from_utf8_lossy(&stored)),
            }
        }
        // What the scalar shortcut cannot parse still fails as before, not as another type.
        for bad in ["integer:\"7\"", "boolean:1", "long:1.5", "string:7"] {
            assert!(decode_value(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
