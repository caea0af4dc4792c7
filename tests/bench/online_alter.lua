-- Foreground workload of tests/bench/online_alter (sysbench 1.0): oltp_read_write's transaction
-- (10 point selects, 4 range selects, an index update, a non-index update, a delete + insert) on
-- sbtest1, with every write also applied, with the same values and in the same transaction, to
-- <control-db>.sbtest1. The control table never migrates, so after a run the migrated table must
-- hold exactly its rows.
--
-- Per-thread log <latency-log>.<thread>: one line per committed transaction,
-- `<start epoch s> <end epoch s> <retries> <errors>` (CLOCK_REALTIME, the clock of `date +%s.%N`):
-- retries after a deadlock or lock wait timeout (1213, 1205, 1020: an application retries those);
-- errors: the codes of other errors sysbench was told to ignore (--mysql-ignore-errors), which an
-- application would see fail ("1412+1146", "-" when none). A transaction counts from its first
-- attempt.
-- Each thread stops before its next transaction once <stop-file> exists (checked every 50 ms).
--
-- Usage: sysbench tests/bench/online_alter.lua --tables=1 --table-size=N
--          --control-db=DB --stop-file=F --latency-log=PREFIX [mysql options] prepare|run

require("oltp_common")

local ffi = require("ffi")
ffi.cdef [[
struct sqlx_bench_timespec { long tv_sec; long tv_nsec; };
int clock_gettime(int clk_id, struct sqlx_bench_timespec *tp);
]]
local CLOCK_REALTIME = 0
local ts = ffi.new("struct sqlx_bench_timespec")

local function now()
   ffi.C.clock_gettime(CLOCK_REALTIME, ts)
   return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

sysbench.cmdline.options.control_db =
   {"Database holding the control table (same name as the bench table)", ""}
sysbench.cmdline.options.stop_file =
   {"Threads stop before their next transaction once this file exists", ""}
sysbench.cmdline.options.latency_log =
   {"Prefix of the per-thread transaction logs (<prefix>.<thread>)", ""}

local function control_table()
   return sysbench.opt.control_db .. ".sbtest1"
end

-- The writes of oltp_common's stmt_defs, once per table: {main statement, control statement}.
local write_defs = {
   index_update = {"UPDATE %s SET k=k+1 WHERE id=?", sysbench.sql.type.INT},
   non_index_update = {"UPDATE %s SET c=? WHERE id=?",
                       {sysbench.sql.type.CHAR, 120}, sysbench.sql.type.INT},
   delete = {"DELETE FROM %s WHERE id=?", sysbench.sql.type.INT},
   insert = {"INSERT INTO %s (id, k, c, pad) VALUES (?, ?, ?, ?)",
             sysbench.sql.type.INT, sysbench.sql.type.INT,
             {sysbench.sql.type.CHAR, 120}, {sysbench.sql.type.CHAR, 60}},
}

local function prepare_write(sql, types)
   local st = con:prepare(sql)
   local params = {}
   for i, t in ipairs(types) do
      if type(t) == "table" then
         params[i] = st:bind_create(t[1], t[2])
      else
         params[i] = st:bind_create(t)
      end
   end
   st:bind_param(unpack(params))
   return {stmt = st, params = params}
end

function prepare_statements()
   assert(sysbench.opt.tables == 1, "online_alter.lua runs on one table (--tables=1)")
   assert(sysbench.opt.control_db ~= "", "--control-db is required")
   prepare_begin()
   prepare_commit()
   prepare_point_selects()
   prepare_simple_ranges()
   prepare_sum_ranges()
   prepare_order_ranges()
   prepare_distinct_ranges()
   writes = {}
   for name, def in pairs(write_defs) do
      local types = {unpack(def, 2)}
      writes[name] = {prepare_write(string.format(def[1], "sbtest1"), types),
                      prepare_write(string.format(def[1], control_table()), types)}
   end
end

-- Runs the write NAME on both tables with the same parameter values.
local function write_both(name, ...)
   for _, w in ipairs(writes[name]) do
      for i = 1, select("#", ...) do
         w.params[i]:set((select(i, ...)))
      end
      w.stmt:execute()
   end
end

local function close_writes()
   if writes == nil then return end
   for _, pair in pairs(writes) do
      for _, w in ipairs(pair) do w.stmt:close() end
   end
   writes = nil
end

local oltp_thread_init = thread_init
function thread_init()
   oltp_thread_init()
   log = nil
   if sysbench.opt.latency_log ~= "" then
      log = assert(io.open(sysbench.opt.latency_log .. "." .. sysbench.tid, "w"))
   end
   pending_start = nil -- start of the transaction being (re)tried
   retries = 0
   failed_codes = {}
   next_stop_check = 0
end

local oltp_thread_done = thread_done
function thread_done()
   if log ~= nil then log:close() end
   close_writes()
   oltp_thread_done()
end

local function stop_requested()
   if sysbench.opt.stop_file == "" then return false end
   local t = now()
   if t < next_stop_check then return false end
   next_stop_check = t + 0.05
   local f = io.open(sysbench.opt.stop_file, "r")
   if f == nil then return false end
   f:close()
   return true
end

function event()
   if pending_start == nil then
      if stop_requested() then return true end
      pending_start = now()
      retries = 0
      failed_codes = {}
   end

   begin()
   execute_point_selects()
   execute_simple_ranges()
   execute_sum_ranges()
   execute_order_ranges()
   execute_distinct_ranges()

   local n = sysbench.opt.table_size
   write_both("index_update", sysbench.rand.default(1, n))
   write_both("non_index_update", get_c_value(), sysbench.rand.default(1, n))
   local id, k = sysbench.rand.default(1, n), sysbench.rand.default(1, n)
   write_both("delete", id)
   write_both("insert", id, k, get_c_value(), get_pad_value())
   commit()

   if log ~= nil then
      local codes = #failed_codes > 0 and table.concat(failed_codes, "+") or "-"
      log:write(string.format("%.6f %.6f %d %s\n", pending_start, now(), retries, codes))
   end
   pending_start = nil
end

-- An ignorable error (deadlock 1213, lock wait timeout 1205, those of --mysql-ignore-errors)
-- restarts the event. A deadlock has rolled the whole transaction back but other errors only their
-- statement: roll back the rest so that each transaction reaches both tables entirely or not at all.
local retried = {[1213] = true, [1205] = true, [1020] = true}
local oltp_before_restart = sysbench.hooks.before_restart_event
function sysbench.hooks.before_restart_event(errdesc)
   if retried[errdesc.sql_errno] then
      retries = retries + 1
   else
      failed_codes[#failed_codes + 1] = tostring(errdesc.sql_errno)
   end
   pcall(function() con:query("ROLLBACK") end)
   if errdesc.sql_errno == 2013 or errdesc.sql_errno == 2055 or
      errdesc.sql_errno == 2006 or errdesc.sql_errno == 2011 then
      close_writes()
   end
   oltp_before_restart(errdesc)
end
