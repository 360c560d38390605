-- wirelab.lua: lets Wireshark and tshark read wirelab's two wires. Load it as it is:
--
--   wireshark -X lua_script:scripts/wireshark/wirelab.lua FILE.pcapng
--   tshark -X lua_script:scripts/wireshark/wirelab.lua -r FILE.pcapng -O betacrew,wirelab
--
-- or copy it into Wireshark's personal Lua plugins folder (Help > About Wireshark > Folders).
-- scripts/capture.sh records a run of the exchange or of a network into such a file.
--
-- 1. BetaCrew, the mock exchange (src/wirelab/exchange/Packet.java), on TCP port 3000; another
--    port is a preference (Edit > Preferences > Protocols > BetaCrew, or -o betacrew.port:3100).
--    The client sends 2-byte requests, the server answers with 17-byte packets, integers
--    big-endian. TCP may split a packet across segments or carry many in one; both are
--    reassembled, and each packet is one BetaCrew item in the tree.
--
--    | direction       | offset | size | field       | filter              | meaning                                |
--    |-----------------|--------|------|-------------|---------------------|----------------------------------------|
--    | request  (to)   | 0      | 1    | callType    | betacrew.call_type  | int8: 1 = stream all packets, 2 = resend one |
--    |                 | 1      | 1    | resendSeq   | betacrew.resend_seq | int8: the sequence to resend (call type 2) |
--    | packet (from)   | 0      | 4    | symbol      | betacrew.symbol     | ASCII, e.g. "AAPL"                     |
--    |                 | 4      | 1    | buy/sell    | betacrew.buy_sell   | ASCII 'B' or 'S'                       |
--    |                 | 5      | 4    | quantity    | betacrew.quantity   | int32                                  |
--    |                 | 9      | 4    | price       | betacrew.price      | int32                                  |
--    |                 | 13     | 4    | sequence    | betacrew.sequence   | int32, from 1, contiguous in the book  |
--
--    Expert notes (filter by their names too):
--      betacrew.gap          a stream skipped sequences: packets the exchange dropped on purpose,
--                            which the client must ask for again, one resend each;
--      betacrew.bad_request  a call type the original server ignores, or a resendSeq no packet
--                            can have (0 or less: the original server crashes on a resend it
--                            cannot find);
--      betacrew.bad_packet   a symbol that is not 4 printable ASCII bytes, an indicator that is
--                            not 'B' or 'S', or a sequence below 1.
--
-- 2. The peer node's gossip (src/wirelab/p2p/), WebSocket text messages on the node ports
--    4001-4099 (a preference: -o "wirelab.ports:4001-4099,5000"). The upgrade on those ports
--    is read as HTTP, so no Decode As is needed; on other ports a text message that is a JSON
--    object with one of the types below is still found. Each message is one JSON object
--    {"type": ..., "data": ...}; Wireshark's own JSON dissector shows its whole tree under ours.
--
--    | type         | data                                   | fields shown                       |
--    |--------------|----------------------------------------|------------------------------------|
--    | HANDSHAKE    | ["ws://host:port", ...] the sender and | wirelab.address (each)             |
--    |              | the addresses it knows                 |                                    |
--    | TRANSACTION  | {the transaction}; "repair": true      | wirelab.id (its id field, as nodes |
--    |              | beside type and data for a repair      | name it), wirelab.signed,          |
--    |              | (a GRAFT's answer, catch-up)           | wirelab.repair                     |
--    | IHAVE        | {"ids": [digests]} transactions the    | wirelab.digest (each)              |
--    |              | sender has; ask with GRAFT if missing  |                                    |
--    | GRAFT        | {"ids": [digests]} make this link part | wirelab.digest (each)              |
--    |              | of the tree, and send these            |                                    |
--    | PRUNE        | {} this link is lazy now               |                                    |
--    | SYNC         | {"count": n, "digest": hex} catch-up:  | wirelab.count                      |
--    |              | here is what I hold                    |                                    |
--    | SYNC_BUCKETS | {"buckets": [256 digests]}             | wirelab.count (digests)            |
--    | SYNC_IDS     | {"buckets": [b...], "ids": [digests]}  | wirelab.digest (each)              |
--    | SYNC_WANT    | {"ids": [digests]} send me these       | wirelab.digest (each)              |
--
--    wirelab.type is every message's type. A digest is 32 lower-case hex digits: the first 128
--    bits of the SHA-256 of the transaction's canonical JSON (TransactionDigest.java).
--    Expert notes: wirelab.malformed (not a JSON object, or data of the wrong shape: a node
--    counts it against the sender's budget), wirelab.unknown_type (a node passes it by),
--    wirelab.lone_surrogate (a \uD800-style escape UTF-8 cannot hold: no node stores it).
--
-- Tried with Wireshark's tshark 4.0 (Debian 12), whose Lua is 5.2: no utf8 library, no integer division.

------------------------------------------------------------------------------------------------
-- 1. BetaCrew
------------------------------------------------------------------------------------------------

local betacrew = Proto("betacrew", "BetaCrew mock exchange")

local REQUEST_SIZE = 2
local PACKET_SIZE = 17
local STREAM_ALL_PACKETS = 1
local RESEND_PACKET = 2

local call_types = { [STREAM_ALL_PACKETS] = "stream all packets", [RESEND_PACKET] = "resend one packet" }

local bf = betacrew.fields
bf.call_type  = ProtoField.int8("betacrew.call_type", "Call type", base.DEC, call_types)
bf.resend_seq = ProtoField.int8("betacrew.resend_seq", "Resend sequence", base.DEC)
bf.symbol     = ProtoField.string("betacrew.symbol", "Symbol")
bf.buy_sell   = ProtoField.string("betacrew.buy_sell", "Buy/sell indicator")
bf.quantity   = ProtoField.int32("betacrew.quantity", "Quantity", base.DEC)
bf.price      = ProtoField.int32("betacrew.price", "Price", base.DEC)
bf.sequence   = ProtoField.int32("betacrew.sequence", "Packet sequence", base.DEC)

local expert_gap = ProtoExpert.new("betacrew.gap", "Packets missing from the stream",
    expert.group.SEQUENCE, expert.severity.NOTE)
local expert_bad_request = ProtoExpert.new("betacrew.bad_request", "A request the exchange cannot answer",
    expert.group.PROTOCOL, expert.severity.WARN)
local expert_bad_packet = ProtoExpert.new("betacrew.bad_packet", "A packet that breaks the format",
    expert.group.MALFORMED, expert.severity.ERROR)
betacrew.experts = { expert_gap, expert_bad_request, expert_bad_packet }

betacrew.prefs.port = Pref.uint("TCP port", 3000, "The exchange server's TCP port")

-- What a client's connection asked for, by connection, so that each packet can be read as the
-- client reads it: in a stream, a sequence that jumps means packets were dropped.
-- The first pass (pinfo.visited false) works it out and keeps the answer by frame, since
-- Wireshark dissects a frame again each time it is clicked.
local connections = {}   -- "client-host:port" -> { asked = call type, last = highest sequence so far }
local gaps = {}          -- "frame:pdu" -> { first, last } missing sequences, or false

function betacrew.init()
    connections = {}
    gaps = {}
end

-- The client's end of the connection names it: the server's end is the same for all.
local function client_end(pinfo, from_server)
    if from_server then
        return tostring(pinfo.dst) .. ":" .. pinfo.dst_port
    end
    return tostring(pinfo.src) .. ":" .. pinfo.src_port
end

-- Several requests or packets may share a frame; the Info column lists them all, comma-separated.
-- The list so far is kept in pinfo.private, which lives for one dissection of one frame.
local function add_info(pinfo, text)
    local so_far = pinfo.private.betacrew_info
    pinfo.private.betacrew_info = so_far and (so_far .. ", " .. text) or text
    pinfo.private.betacrew_pdus = tostring(tonumber(pinfo.private.betacrew_pdus or "0") + 1)
    pinfo.cols.protocol = "BetaCrew"
    pinfo.cols.info = pinfo.private.betacrew_info
end

local function from_server(pinfo)
    return pinfo.src_port == betacrew.prefs.port
end

local function dissect_request(tvb, pinfo, tree)
    local item = tree:add(betacrew, tvb(), "BetaCrew request")
    local call_type = tvb(0, 1):int()
    local resend_seq = tvb(1, 1):int()
    item:add(bf.call_type, tvb(0, 1))
    item:add(bf.resend_seq, tvb(1, 1))
    local text
    if call_type == STREAM_ALL_PACKETS then
        text = "stream all packets"
    elseif call_type == RESEND_PACKET then
        text = "resend " .. resend_seq
        if resend_seq < 1 then
            item:add_proto_expert_info(expert_bad_request, "no packet has sequence " .. resend_seq
                .. ": the original server crashes on a resend it cannot find")
        end
    else
        text = "call type " .. call_type .. " (ignored by the exchange)"
        item:add_proto_expert_info(expert_bad_request, "call type " .. call_type
            .. ": only 1 (stream all packets) and 2 (resend) are answered")
    end
    item:append_text(": " .. text)
    add_info(pinfo, text)
    if not pinfo.visited then
        connections[client_end(pinfo, false)] = { asked = call_type, last = 0 }
    end
end

-- The missing sequences before this packet, worked out once on the first pass.
local function gap_before(pinfo, sequence)
    local key = pinfo.number .. ":" .. (pinfo.private.betacrew_pdus or "0")
    if not pinfo.visited then
        local connection = connections[client_end(pinfo, true)]
        local gap = false
        if connection and connection.asked == STREAM_ALL_PACKETS then
            if sequence > connection.last + 1 then
                gap = { connection.last + 1, sequence - 1 }
            end
            connection.last = math.max(connection.last, sequence)
        end
        gaps[key] = gap
    end
    return gaps[key]
end

local function dissect_packet(tvb, pinfo, tree)
    local symbol = tvb(0, 4):string()
    local indicator = tvb(4, 1):string()
    local quantity = tvb(5, 4):int()
    local price = tvb(9, 4):int()
    local sequence = tvb(13, 4):int()
    local text = symbol .. " " .. indicator .. " " .. quantity .. " @ " .. price .. " #" .. sequence
    local connection = connections[client_end(pinfo, true)]
    if connection and connection.asked == RESEND_PACKET then
        text = text .. " (resent)"
    end

    local item = tree:add(betacrew, tvb(), "BetaCrew packet: " .. text)
    local symbol_item = item:add(bf.symbol, tvb(0, 4))
    local indicator_item = item:add(bf.buy_sell, tvb(4, 1))
    item:add(bf.quantity, tvb(5, 4))
    item:add(bf.price, tvb(9, 4))
    local sequence_item = item:add(bf.sequence, tvb(13, 4))

    if not symbol:match("^[\33-\126][\33-\126][\33-\126][\33-\126]$") then
        symbol_item:add_proto_expert_info(expert_bad_packet, "the symbol must be 4 printable ASCII bytes")
    end
    if indicator == "B" then
        indicator_item:append_text(" (buy)")
    elseif indicator == "S" then
        indicator_item:append_text(" (sell)")
    else
        indicator_item:add_proto_expert_info(expert_bad_packet, "the indicator must be 'B' or 'S'")
    end
    if sequence < 1 then
        sequence_item:add_proto_expert_info(expert_bad_packet, "sequences start at 1")
    end

    local gap = gap_before(pinfo, sequence)
    if gap then
        local missing = gap[1] == gap[2] and ("packet " .. gap[1]) or ("packets " .. gap[1] .. "-" .. gap[2])
        sequence_item:add_proto_expert_info(expert_gap, missing .. " missing before #" .. sequence
            .. ": dropped by the exchange on this stream; a client asks again for what no stream brought")
    end
    add_info(pinfo, text)
end

-- dissect_tcp_pdus asks how long the message at offset is: a request or a packet, by direction.
local function betacrew_pdu_length(tvb, pinfo, offset)
    return from_server(pinfo) and PACKET_SIZE or REQUEST_SIZE
end

local function betacrew_pdu(tvb, pinfo, tree)
    if from_server(pinfo) then
        dissect_packet(tvb, pinfo, tree)
    else
        dissect_request(tvb, pinfo, tree)
    end
    return tvb:len()
end

function betacrew.dissector(tvb, pinfo, tree)
    dissect_tcp_pdus(tvb, tree, REQUEST_SIZE, betacrew_pdu_length, betacrew_pdu, true)
    return tvb:len()
end

------------------------------------------------------------------------------------------------
-- 2. The peer node's gossip
------------------------------------------------------------------------------------------------

local wirelab = Proto("wirelab", "wirelab gossip")

local TYPES = {
    HANDSHAKE = true, TRANSACTION = true, IHAVE = true, GRAFT = true, PRUNE = true,
    SYNC = true, SYNC_BUCKETS = true, SYNC_IDS = true, SYNC_WANT = true,
}

local wf = wirelab.fields
wf.type    = ProtoField.string("wirelab.type", "Type")
wf.address = ProtoField.string("wirelab.address", "Address")
wf.id      = ProtoField.string("wirelab.id", "Transaction id")
wf.signed  = ProtoField.bool("wirelab.signed", "Signed")
wf.repair  = ProtoField.bool("wirelab.repair", "Repair")
wf.digest  = ProtoField.string("wirelab.digest", "Digest")
wf.count   = ProtoField.uint32("wirelab.count", "Count", base.DEC)

local expert_malformed = ProtoExpert.new("wirelab.malformed", "A message no node can use",
    expert.group.MALFORMED, expert.severity.WARN)
local expert_unknown_type = ProtoExpert.new("wirelab.unknown_type", "A type this node does not speak",
    expert.group.UNDECODED, expert.severity.NOTE)
local expert_lone_surrogate = ProtoExpert.new("wirelab.lone_surrogate", "Text UTF-8 cannot hold",
    expert.group.MALFORMED, expert.severity.WARN)
wirelab.experts = { expert_malformed, expert_unknown_type, expert_lone_surrogate }

wirelab.prefs.ports = Pref.range("Node ports", "4001-4099", "The peer nodes' TCP ports", 65535)

local json = Dissector.get("json")

-- A small JSON reader. Each value comes back as a node { kind, value, first, last } where first
-- and last are its byte positions in the text (1-based), so that a field highlights its bytes.
-- Objects hold their members by name, arrays their items in order.
local MAX_DEPTH = 64     -- deeper nesting is read as malformed, never as a stack overflow

local read_value   -- declared ahead: values nest

local function utf8_bytes(code)
    if code < 0x80 then
        return string.char(code)
    elseif code < 0x800 then
        return string.char(0xC0 + math.floor(code / 0x40), 0x80 + code % 0x40)
    elseif code < 0x10000 then
        return string.char(0xE0 + math.floor(code / 0x1000), 0x80 + math.floor(code / 0x40) % 0x40, 0x80 + code % 0x40)
    end
    return string.char(0xF0 + math.floor(code / 0x40000), 0x80 + math.floor(code / 0x1000) % 0x40,
        0x80 + math.floor(code / 0x40) % 0x40, 0x80 + code % 0x40)
end

local function skip_space(text, at)
    return text:find("[^ \t\r\n]", at) or #text + 1
end

-- A string from the quote at `at`; `state.lone_surrogate` is set when an escape names half a pair.
local function read_string(text, at, state)
    local parts = {}
    local i = at + 1
    while true do
        local plain_end = text:find('["\\]', i)
        if not plain_end then
            error("a string that never ends")
        end
        parts[#parts + 1] = text:sub(i, plain_end - 1)
        if text:sub(plain_end, plain_end) == '"' then
            return { kind = "string", value = table.concat(parts), first = at, last = plain_end }, plain_end + 1
        end
        local escape = text:sub(plain_end + 1, plain_end + 1)
        local simple = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
        if simple[escape] then
            parts[#parts + 1] = simple[escape]
            i = plain_end + 2
        elseif escape == "u" then
            local code = tonumber(text:sub(plain_end + 2, plain_end + 5), 16)
            if not code then
                error("\\u must be followed by 4 hex digits")
            end
            i = plain_end + 6
            if code >= 0xD800 and code <= 0xDBFF and text:sub(i, i + 1) == "\\u" then
                local low = tonumber(text:sub(i + 2, i + 5), 16)
                if low and low >= 0xDC00 and low <= 0xDFFF then
                    code = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00)
                    i = i + 6
                end
            end
            if code >= 0xD800 and code <= 0xDFFF then
                state.lone_surrogate = true
                parts[#parts + 1] = "\\u" .. string.format("%04X", code)
            else
                parts[#parts + 1] = utf8_bytes(code)
            end
        else
            error("unknown escape \\" .. escape)
        end
    end
end

local function read_list(text, at, state, depth, closing, read_item)
    local i = skip_space(text, at + 1)
    if text:sub(i, i) == closing then
        return i + 1
    end
    while true do
        i = read_item(skip_space(text, i))
        i = skip_space(text, i)
        local separator = text:sub(i, i)
        if separator == closing then
            return i + 1
        elseif separator ~= "," then
            error("expected ',' or '" .. closing .. "' at byte " .. i)
        end
        i = i + 1
    end
end

read_value = function(text, at, state, depth)
    if depth > MAX_DEPTH then
        error("nested deeper than " .. MAX_DEPTH)
    end
    local c = text:sub(at, at)
    if c == "{" then
        local members = {}
        local next_at = read_list(text, at, state, depth, "}", function(i)
            if text:sub(i, i) ~= '"' then
                error("expected a member name at byte " .. i)
            end
            local name, after = read_string(text, i, state)
            after = skip_space(text, after)
            if text:sub(after, after) ~= ":" then
                error("expected ':' at byte " .. after)
            end
            local value, after_value = read_value(text, skip_space(text, after + 1), state, depth + 1)
            members[name.value] = value
            return after_value
        end)
        return { kind = "object", value = members, first = at, last = next_at - 1 }, next_at
    elseif c == "[" then
        local items = {}
        local next_at = read_list(text, at, state, depth, "]", function(i)
            local value, after = read_value(text, i, state, depth + 1)
            items[#items + 1] = value
            return after
        end)
        return { kind = "array", value = items, first = at, last = next_at - 1 }, next_at
    elseif c == '"' then
        return read_string(text, at, state)
    end
    local literal = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", at) or text:match("^true", at)
        or text:match("^false", at) or text:match("^null", at)
    if not literal then
        error("unexpected '" .. c .. "' at byte " .. at)
    end
    local kind = (literal == "true" or literal == "false") and "boolean" or (literal == "null" and "null" or "number")
    return { kind = kind, value = literal, first = at, last = at + #literal - 1 }, at + #literal
end

-- The whole text as one JSON value; nil and why when it is not one.
local function parse_json(text)
    local state = {}
    local ok, value, after = pcall(read_value, text, skip_space(text, 1), state, 1)
    if not ok then
        return nil, tostring(value):gsub("^.-:%d+: ", ""), state
    end
    if skip_space(text, after) <= #text then
        return nil, "text after the JSON value at byte " .. after, state
    end
    return value, nil, state
end

local function range_of(tvb, node)
    return tvb(node.first - 1, node.last - node.first + 1)
end

-- The transaction's name as nodes print it (TransactionId.java): its id field as JSON text,
-- else its hash field, else nodes name it by its digest, which this file cannot compute.
local function transaction_name(transaction)
    local id = transaction.value.id
    if id and id.kind == "string" then
        return '"' .. id.value .. '"', id
    elseif id and id.kind == "number" then
        return id.value, id
    end
    local hash = transaction.value.hash
    if hash and hash.kind == "string" then
        return "hash:" .. hash.value, hash
    end
    return nil, nil
end

-- Adds one field for each string in data's list `name` (e.g. "ids"); returns how many.
local function add_each(tree, tvb, field, list)
    if not list or list.kind ~= "array" then
        return nil
    end
    for _, item in ipairs(list.value) do
        if item.kind == "string" then
            tree:add(field, range_of(tvb, item), item.value)
        end
    end
    return #list.value
end

local function plural(count, word)
    return count .. " " .. word .. (count == 1 and "" or "s")
end

-- What each type's data shows, and the words for the Info column. Returns the summary, or nil
-- and why the data has the wrong shape.
local function dissect_data(type_name, message, data, tree, tvb)
    local field = data and data.value or {}
    if type_name == "HANDSHAKE" then
        if not data or data.kind ~= "array" then
            return nil, "data must be an array of addresses"
        end
        add_each(tree, tvb, wf.address, data)
        local addresses = {}
        for _, item in ipairs(data.value) do
            addresses[#addresses + 1] = item.kind == "string" and item.value or "?"
        end
        return table.concat(addresses, " ")
    elseif type_name == "TRANSACTION" then
        if not data or data.kind ~= "object" then
            return nil, "data must be an object"
        end
        local name, name_node = transaction_name(data)
        if name_node then
            tree:add(wf.id, range_of(tvb, name_node), name)
        end
        local signed = field.publicKey ~= nil and field.signature ~= nil
        tree:add(wf.signed, range_of(tvb, data), signed)
        local repair = message.value.repair
        local is_repair = repair ~= nil and repair.kind == "boolean" and repair.value == "true"
        if repair then
            tree:add(wf.repair, range_of(tvb, repair), is_repair)
        end
        return (name or "(no id: nodes name it by its digest)") .. (signed and " signed" or "")
            .. (is_repair and " (repair)" or "")
    elseif type_name == "IHAVE" or type_name == "GRAFT" or type_name == "SYNC_IDS" or type_name == "SYNC_WANT" then
        local count = data and data.kind == "object" and add_each(tree, tvb, wf.digest, field.ids)
        if not count then
            return nil, 'data must be an object with an "ids" list'
        end
        if type_name == "GRAFT" and count == 0 then
            return "(make this link part of the tree)"
        end
        return plural(count, "id")
    elseif type_name == "SYNC" then
        local count = field.count
        if not count or count.kind ~= "number" then
            return nil, 'data must be an object with a "count"'
        end
        tree:add(wf.count, range_of(tvb, count), tonumber(count.value))
        return plural(tonumber(count.value), "transaction")
    elseif type_name == "SYNC_BUCKETS" then
        local buckets = field.buckets
        if not buckets or buckets.kind ~= "array" then
            return nil, 'data must be an object with a "buckets" list'
        end
        tree:add(wf.count, range_of(tvb, buckets), #buckets.value)
        return plural(#buckets.value, "bucket digest")
    end
    return ""   -- PRUNE: nothing to show but the type
end

-- Several messages may share a frame; the Info column lists them all, separated by " | ". The
-- list so far is kept in pinfo.private (it lives for one dissection of one frame) and written
-- over what the WebSocket and JSON dissectors put there for each message.
local function add_message_info(pinfo, text)
    local so_far = pinfo.private.wirelab_info
    pinfo.private.wirelab_info = so_far and (so_far .. " | " .. text) or text
    pinfo.cols.protocol = "wirelab"
    pinfo.cols.info = pinfo.private.wirelab_info
end

-- Adds the message's fields and expert notes to `item`; returns the words for the Info column.
local function describe(message, problem, state, type_name, type_node, item, tvb)
    if state.lone_surrogate then
        item:add_proto_expert_info(expert_lone_surrogate, "an escape names half a surrogate pair: "
            .. "UTF-8 cannot hold it, so no node stores this message's transaction")
    end
    if not message or message.kind ~= "object" then
        item:add_proto_expert_info(expert_malformed, "expected a JSON object: " .. (problem or "got a " .. message.kind))
        return "(not a JSON object)"
    end
    if not type_name then
        item:add_proto_expert_info(expert_malformed, 'expected a "type" string')
        return "(no type)"
    end
    item:add(wf.type, range_of(tvb, type_node), type_name)
    if not TYPES[type_name] then
        item:add_proto_expert_info(expert_unknown_type, "type " .. type_name .. ": a node passes it by")
        return type_name
    end
    local summary, wrong_shape = dissect_data(type_name, message, message.value.data, item, tvb)
    if not summary then
        item:add_proto_expert_info(expert_malformed, type_name .. ": " .. wrong_shape)
        summary = "(" .. wrong_shape .. ")"
    end
    return summary == "" and type_name or (type_name .. " " .. summary)
end

-- One WebSocket text message. With `only_ours`, as a heuristic, it claims nothing that is not
-- a JSON object with one of the types above, and returns false for it.
local function dissect_message(tvb, pinfo, tree, only_ours)
    local text = tvb:raw()
    local message, problem, state = parse_json(text)
    local type_node = message and message.kind == "object" and message.value.type
    local type_name = type_node and type_node.kind == "string" and type_node.value
    if only_ours and not (type_name and TYPES[type_name]) then
        return false
    end

    local item = tree:add(wirelab, tvb())
    local info = describe(message, problem, state, type_name, type_node, item, tvb)
    item:append_text(": " .. info)
    json:call(tvb, pinfo, item)   -- Wireshark's own tree of the whole JSON, under ours
    add_message_info(pinfo, info)
    return true
end

function wirelab.dissector(tvb, pinfo, tree)
    dissect_message(tvb, pinfo, tree, false)
    return tvb:len()
end

------------------------------------------------------------------------------------------------
-- Where each protocol is found, and again when a preference changes
------------------------------------------------------------------------------------------------

-- HTTP's handle for TCP ports is "http-over-tcp" in Wireshark 4.0; plain "http" where there is none.
local ok, http = pcall(Dissector.get, "http-over-tcp")
if not ok then
    http = Dissector.get("http")
end
local registered = { betacrew_port = nil, node_ports = nil }

local function register_ports()
    local tcp_port = DissectorTable.get("tcp.port")
    local ws_port = DissectorTable.get("ws.port")
    if registered.betacrew_port then
        tcp_port:remove(registered.betacrew_port, betacrew)
    end
    if registered.node_ports and registered.node_ports ~= "" then
        tcp_port:remove(registered.node_ports, http)
        ws_port:remove(registered.node_ports, wirelab)
    end
    registered.betacrew_port = betacrew.prefs.port
    registered.node_ports = tostring(wirelab.prefs.ports)
    tcp_port:add(registered.betacrew_port, betacrew)
    if registered.node_ports ~= "" then
        tcp_port:add(registered.node_ports, http)       -- the upgrade, /status and /events are HTTP
        ws_port:add(registered.node_ports, wirelab)     -- and then every text message is ours
    end
end

betacrew.prefs_changed = register_ports
wirelab.prefs_changed = register_ports
register_ports()

wirelab:register_heuristic("ws", function(tvb, pinfo, tree)
    return dissect_message(tvb, pinfo, tree, true)
end)
