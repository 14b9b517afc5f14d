// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IVerifier} from "./interfaces/IVerifier.sol";
import {IGuardianPausable} from "./interfaces/IPausable.sol";
import {IBridgeHooks} from "./interfaces/IBridgeHooks.sol";
import {Staking} from "./Staking.sol";
import {
    PublicInputs,
    Slash,
    CommitInput,
    Batch,
    QueueEntry,
    QUEUE_KIND_DEPOSIT,
    QUEUE_KIND_MESSAGE
} from "./RollupTypes.sol";

/// @title Rollup
/// @notice L1 settlement of the Computronium zk-rollup.
///         - The L1→L2 queue: deposits (through the Bridge) and messages, each with a timestamp and
///           a rolling keccak hash. Forced inclusion: a batch that leaves an entry older than
///           `forceInclusionDeadline` unconsumed is refused.
///         - `commitBatch` (sequencer) posts batch data in calldata with the new state root,
///           withdrawal root, queue entries consumed, fees burned, rejected deposits and slashes.
///         - `proveBatch` (anyone) checks the proof with the governance-set IVerifier and pays the
///           first valid prover `proverReward` from the prover reward pool.
///         - `finalizeBatch` (anyone) finalizes proven batches in order: the bridge credits
///           deposits and burns the reported L2 fees, rejected deposits become refundable, slashes
///           are applied.
///         - `revertBatches` (anyone) drops an unproven batch older than `proofTimeout` and all later ones.
///         - Escape hatch: when no batch has finalized for `escapeWindow`, the rollup enters escape
///           mode for good; batches stop and users exit through the Bridge against the last
///           finalized state root.
///         Every parameter is set by the governance timelock; the Guardian can only pause.
/// @dev Batch 0 is the genesis pseudo-batch (state root = genesis root, finalized at deployment).
contract Rollup is IGuardianPausable {
    using SafeERC20 for IERC20;

    /// @notice Constructor configuration.
    struct Config {
        IERC20 token;
        address bridge;
        Staking staking;
        address timelock;
        address guardian;
        address verifier; //               zero: no batch can be proven until governance sets one
        address sequencer;
        uint64 l2ChainId;
        bytes32 genesisStateRoot;
        uint64 forceInclusionDeadline; //  seconds
        uint64 proofTimeout; //            seconds
        uint64 escapeWindow; //            seconds
        uint256 proverReward; //           base units per proven batch
    }

    /// @notice Most slashes one batch may carry.
    uint256 public constant MAX_SLASHES = 64;
    /// @notice The most L1 queue entries one batch may consume: the batch proof carries them as a
    ///         fixed-size list (`ctm_core::l1::MAX_QUEUE_ENTRIES_PER_BATCH`, the verifier's
    ///         `MAX_QUEUE_ENTRIES`).
    uint256 public constant MAX_QUEUE_ENTRIES_PER_BATCH = 16;

    // ------------------------------------------------------------------ errors
    /// @notice A zero address where an address is required.
    error ZeroAddress();
    /// @notice A zero amount.
    error ZeroAmount();
    /// @notice The caller is not the timelock.
    error NotTimelock(address caller);
    /// @notice The caller is not the bridge.
    error NotBridge(address caller);
    /// @notice The caller is not the sequencer.
    error NotSequencer(address caller);
    /// @notice The caller is neither the guardian nor the timelock.
    error NotGuardian(address caller);
    /// @notice Deposits and messages are paused by the guardian.
    error DepositsPaused();
    /// @notice Batch acceptance is paused by the guardian.
    error BatchesPaused();
    /// @notice The rollup is in escape mode.
    error EscapeModeActive();
    /// @notice Escape mode cannot start yet (a batch finalized within the window).
    error EscapeModeNotReady(uint256 readyAt);
    /// @notice `commitBatch` with the wrong batch index.
    error WrongBatchIndex(uint256 expected, uint256 given);
    /// @notice The batch consumes more queue entries than exist.
    error QueueOverrun(uint256 end, uint256 length);
    /// @notice The batch leaves an overdue queue entry unconsumed (forced inclusion).
    error QueueEntryOverdue(uint256 index, uint256 enqueuedAt);
    /// @notice The batch consumes more queue entries than a batch proof can carry.
    error TooManyQueueEntries(uint256 count, uint256 max);
    /// @notice A rejected deposit index is out of range, not increasing, or not a deposit.
    error InvalidRejectedDeposit(uint256 index);
    /// @notice Too many slashes in one batch.
    error TooManySlashes(uint256 count);
    /// @notice A slash names an unknown role.
    error InvalidSlashRole(uint8 role);
    /// @notice The sequencer's stake is below `minSequencerStake`.
    error SequencerStakeTooLow(uint256 stake, uint256 minimum);
    /// @notice Fees burned do not fit in 128 bits.
    error FeesTooLarge(uint256 fees);
    /// @notice No such committed, unfinalized batch.
    error UnknownBatch(uint256 batchIndex);
    /// @notice The batch already has a valid proof.
    error AlreadyProven(uint256 batchIndex);
    /// @notice No verifier is set.
    error VerifierNotSet();
    /// @notice The verifier rejected (or failed on) the proof.
    error InvalidProof(uint256 batchIndex);
    /// @notice Finalization must go in order: `expected` is next.
    error NotNextBatch(uint256 expected, uint256 given);
    /// @notice The batch has no valid proof yet.
    error NotProven(uint256 batchIndex);
    /// @notice The batch cannot be reverted (proven, finalized, or its proof window is still open).
    error CannotRevert(uint256 batchIndex);
    /// @notice The batch is not finalized.
    error NotFinalized(uint256 batchIndex);
    /// @notice Escape window must exceed the proof timeout, and both be non-zero.
    error InvalidWindows(uint256 proofTimeout, uint256 escapeWindow);
    /// @notice Queue index out of range.
    error UnknownQueueIndex(uint256 index);
    /// @notice The prover reward pool holds less than requested.
    error InsufficientPool(uint256 pool, uint256 requested);

    // ------------------------------------------------------------------ events
    /// @notice A queue entry was added. For deposits `dataHash` is 0 and `data` empty.
    event QueueEntryAdded(
        uint256 indexed index,
        uint8 kind,
        address indexed l1Sender,
        address indexed l2Target,
        uint256 amount,
        bytes32 dataHash,
        uint64 timestamp,
        bytes32 rollingHash,
        bytes data
    );
    /// @notice Batch `batchIndex` was committed.
    event BatchCommitted(
        uint256 indexed batchIndex,
        bytes32 newStateRoot,
        bytes32 withdrawalRoot,
        bytes32 batchDataHash,
        uint64 queueStart,
        uint64 queueCount,
        uint256 feesBurned,
        uint64[] rejectedDeposits,
        Slash[] slashes
    );
    /// @notice Batch `batchIndex` got its first valid proof from `prover`, paid `reward`.
    event BatchProven(uint256 indexed batchIndex, address indexed prover, uint256 reward);
    /// @notice Batch `batchIndex` finalized.
    event BatchFinalized(uint256 indexed batchIndex, bytes32 stateRoot, bytes32 withdrawalRoot);
    /// @notice Batches `fromIndex..=toIndex` were reverted.
    event BatchesReverted(uint256 indexed fromIndex, uint256 toIndex);
    /// @notice The deposit at queue index `index` was rejected by L2 and is refundable.
    event DepositRejected(uint256 indexed index, uint256 amount);
    /// @notice A slash from batch `batchIndex` was applied.
    event SlashApplied(uint256 indexed batchIndex, address indexed account, uint8 role, uint256 slashed);
    /// @notice The rollup entered escape mode.
    event EscapeModeActivated(uint256 lastFinalizedBatch, bytes32 stateRoot);
    /// @notice Deposits pause switched by `by`.
    event DepositsPausedSet(bool paused, address indexed by);
    /// @notice Batches pause switched by `by`.
    event BatchesPausedSet(bool paused, address indexed by);
    /// @notice A parameter changed (`name` is the setter's parameter name, e.g. "proofTimeout").
    event ParameterSet(string name, uint256 value);
    /// @notice An address parameter changed.
    event AddressSet(string name, address value);
    /// @notice The prover reward pool was funded.
    event ProverPoolFunded(address indexed from, uint256 amount);
    /// @notice The timelock took tokens out of the prover reward pool.
    event ProverPoolWithdrawn(address indexed to, uint256 amount);

    // ------------------------------------------------------------------ state
    /// @notice The project token.
    IERC20 public immutable token;
    /// @notice The bridge (holds locked tokens; sole depositor into the queue).
    address public immutable bridge;
    /// @notice The staking contract (slashed on proven faults).
    Staking public immutable staking;
    /// @notice Governance timelock.
    address public immutable timelock;
    /// @notice L2 chain id bound into every proof.
    uint64 public immutable l2ChainId;

    /// @notice The Guardian multisig (pause only).
    address public guardian;
    /// @notice The validity-proof verifier (zero: proving disabled).
    address public verifier;
    /// @notice The only address allowed to commit batches.
    address public sequencer;
    /// @notice Seconds after which an unconsumed queue entry blocks batches that skip it.
    uint64 public forceInclusionDeadline;
    /// @notice Seconds after commit after which an unproven batch may be reverted.
    uint64 public proofTimeout;
    /// @notice Seconds without finalization after which escape mode may start.
    uint64 public escapeWindow;
    /// @notice Reward for the first valid proof of a batch.
    uint256 public proverReward;
    /// @notice Minimum sequencer-role stake of the sequencer (0 = none).
    uint256 public minSequencerStake;
    /// @notice Tokens held for prover rewards.
    uint256 public proverPool;

    /// @notice Deposits and messages paused.
    bool public depositsPaused;
    /// @notice Batch acceptance paused.
    bool public batchesPaused;
    /// @notice Escape mode latched.
    bool public escapeMode;

    /// @notice Highest committed batch index.
    uint64 public lastCommittedBatch;
    /// @notice Highest finalized batch index.
    uint64 public lastFinalizedBatch;
    /// @notice Time of the last finalization (deployment time initially).
    uint64 public lastFinalizedAt;

    mapping(uint256 => Batch) internal _batches;
    mapping(uint256 => uint64[]) internal _batchRejected;
    mapping(uint256 => Slash[]) internal _batchSlashes;
    QueueEntry[] internal _queue;
    mapping(uint256 => bool) internal _rejected;

    /// @param c The configuration.
    constructor(Config memory c) {
        if (
            address(c.token) == address(0) || c.bridge == address(0) || address(c.staking) == address(0)
                || c.timelock == address(0) || c.guardian == address(0) || c.sequencer == address(0)
        ) revert ZeroAddress();
        if (c.proofTimeout == 0 || c.escapeWindow <= c.proofTimeout) revert InvalidWindows(c.proofTimeout, c.escapeWindow);
        token = c.token;
        bridge = c.bridge;
        staking = c.staking;
        timelock = c.timelock;
        l2ChainId = c.l2ChainId;
        guardian = c.guardian;
        verifier = c.verifier;
        sequencer = c.sequencer;
        forceInclusionDeadline = c.forceInclusionDeadline;
        proofTimeout = c.proofTimeout;
        escapeWindow = c.escapeWindow;
        proverReward = c.proverReward;
        lastFinalizedAt = uint64(block.timestamp);
        Batch storage g = _batches[0];
        g.newStateRoot = c.genesisStateRoot;
        g.finalized = true;
        g.committedAt = uint64(block.timestamp);
        emit AddressSet("guardian", c.guardian);
        emit AddressSet("verifier", c.verifier);
        emit AddressSet("sequencer", c.sequencer);
        emit ParameterSet("forceInclusionDeadline", c.forceInclusionDeadline);
        emit ParameterSet("proofTimeout", c.proofTimeout);
        emit ParameterSet("escapeWindow", c.escapeWindow);
        emit ParameterSet("proverReward", c.proverReward);
        emit BatchFinalized(0, c.genesisStateRoot, bytes32(0));
    }

    modifier onlyTimelock() {
        if (msg.sender != timelock) revert NotTimelock(msg.sender);
        _;
    }

    modifier whenBatchesLive() {
        if (batchesPaused) revert BatchesPaused();
        if (isEscapeMode()) revert EscapeModeActive();
        _;
    }

    // ================================================================== queue

    /// @notice Enqueues a deposit (bridge only). The bridge has already taken the tokens.
    /// @param l1Sender The depositor.
    /// @param l2Recipient The credited L2 account.
    /// @param amount Amount in base units.
    /// @return index The queue index.
    function enqueueDeposit(address l1Sender, address l2Recipient, uint256 amount) external returns (uint256 index) {
        if (msg.sender != bridge) revert NotBridge(msg.sender);
        if (amount == 0) revert ZeroAmount();
        return _enqueue(QUEUE_KIND_DEPOSIT, l1Sender, l2Recipient, amount, "");
    }

    /// @notice Sends an L1→L2 message (forced-included like deposits); `data` is L2 calldata for
    ///         `l2Target`, executed on L2 with `msg.sender` as the L1 sender.
    /// @param l2Target The L2 target.
    /// @param data The message payload.
    /// @return index The queue index.
    function sendMessage(address l2Target, bytes calldata data) external returns (uint256 index) {
        return _enqueue(QUEUE_KIND_MESSAGE, msg.sender, l2Target, 0, data);
    }

    function _enqueue(uint8 kind, address l1Sender, address l2Target, uint256 amount, bytes memory data)
        internal
        returns (uint256 index)
    {
        if (depositsPaused) revert DepositsPaused();
        if (isEscapeMode()) revert EscapeModeActive();
        if (l2Target == address(0)) revert ZeroAddress();
        index = _queue.length;
        bytes32 dataHash = kind == QUEUE_KIND_DEPOSIT ? bytes32(0) : keccak256(data);
        bytes32 rolling = _push(index, kind, l1Sender, l2Target, amount, dataHash);
        emit QueueEntryAdded(index, kind, l1Sender, l2Target, amount, dataHash, uint64(block.timestamp), rolling, data);
    }

    function _push(uint256 index, uint8 kind, address l1Sender, address l2Target, uint256 amount, bytes32 dataHash)
        internal
        returns (bytes32 rolling)
    {
        bytes32 prev;
        uint256 cum;
        if (index > 0) {
            QueueEntry storage last = _queue[index - 1];
            prev = last.rollingHash;
            cum = last.cumulativeDeposits;
        }
        uint64 ts = uint64(block.timestamp);
        bytes32 entryHash = keccak256(abi.encode(uint64(index), kind, l1Sender, l2Target, amount, dataHash, ts));
        rolling = keccak256(abi.encode(prev, entryHash));
        _queue.push(
            QueueEntry({rollingHash: rolling, cumulativeDeposits: uint128(cum + amount), timestamp: ts, kind: kind})
        );
    }

    /// @notice Number of queue entries ever added.
    /// @return The queue length.
    function queueLength() external view returns (uint256) {
        return _queue.length;
    }

    /// @notice A queue entry.
    /// @param index Queue index.
    /// @return The entry.
    function queueEntry(uint256 index) external view returns (QueueEntry memory) {
        if (index >= _queue.length) revert UnknownQueueIndex(index);
        return _queue[index];
    }

    /// @notice Deposit amount of queue entry `index` (0 for messages).
    /// @param index Queue index.
    /// @return The amount.
    function queueAmount(uint256 index) public view returns (uint256) {
        if (index >= _queue.length) revert UnknownQueueIndex(index);
        uint256 before = index == 0 ? 0 : _queue[index - 1].cumulativeDeposits;
        return _queue[index].cumulativeDeposits - before;
    }

    /// @notice Rolling queue hash after the first `n` entries (0 for n = 0).
    /// @param n Entry count (at most the queue length).
    /// @return The rolling hash.
    function queueHashAt(uint256 n) public view returns (bytes32) {
        if (n > _queue.length) revert UnknownQueueIndex(n);
        return n == 0 ? bytes32(0) : _queue[n - 1].rollingHash;
    }

    /// @notice Whether queue entry `index` is of kind deposit.
    /// @param index Queue index.
    /// @return True for a deposit.
    function isDeposit(uint256 index) external view returns (bool) {
        return index < _queue.length && _queue[index].kind == QUEUE_KIND_DEPOSIT;
    }

    /// @notice Queue index up to which (exclusive) finalized batches consumed the queue.
    /// @return The finalized queue head.
    function finalizedQueueHead() external view returns (uint256) {
        return _batches[lastFinalizedBatch].queueEnd;
    }

    /// @notice Queue index up to which (exclusive) committed batches consumed the queue.
    /// @return The committed queue head.
    function committedQueueHead() public view returns (uint256) {
        return _batches[lastCommittedBatch].queueEnd;
    }

    /// @notice Whether a finalized batch reported the deposit at `index` as rejected by L2.
    /// @param index Queue index.
    /// @return True when rejected (refundable through the Bridge).
    function isDepositRejected(uint256 index) external view returns (bool) {
        return _rejected[index];
    }

    // ================================================================== batches

    /// @notice Commits the next batch (sequencer only).
    /// @param c The batch header, data, rejected deposits and slashes.
    function commitBatch(CommitInput calldata c) external whenBatchesLive {
        if (msg.sender != sequencer) revert NotSequencer(msg.sender);
        uint256 min = minSequencerStake;
        if (min > 0) {
            uint256 s = staking.activeStake(msg.sender, Staking.Role.Sequencer);
            if (s < min) revert SequencerStakeTooLow(s, min);
        }
        uint64 index = lastCommittedBatch + 1;
        if (c.batchIndex != index) revert WrongBatchIndex(index, c.batchIndex);
        if (c.feesBurned > type(uint128).max) revert FeesTooLarge(c.feesBurned);

        if (c.queueCount > MAX_QUEUE_ENTRIES_PER_BATCH) {
            revert TooManyQueueEntries(c.queueCount, MAX_QUEUE_ENTRIES_PER_BATCH);
        }
        uint256 start = _batches[index - 1].queueEnd;
        uint256 end = start + c.queueCount;
        uint256 qlen = _queue.length;
        if (end > qlen) revert QueueOverrun(end, qlen);
        // Forced inclusion: once the oldest unconsumed entry is overdue, a batch must consume it,
        // or as many entries as a batch can carry (a backlog drains 16 per batch).
        if (end < qlen && c.queueCount < MAX_QUEUE_ENTRIES_PER_BATCH) {
            uint256 ts = _queue[end].timestamp;
            if (ts + forceInclusionDeadline <= block.timestamp) revert QueueEntryOverdue(end, ts);
        }

        // Rejected deposits: strictly increasing, inside the consumed range, deposits only.
        uint256 prevRejected = start;
        for (uint256 i = 0; i < c.rejectedDeposits.length; i++) {
            uint256 r = c.rejectedDeposits[i];
            if (r < prevRejected || r >= end || _queue[r].kind != QUEUE_KIND_DEPOSIT) {
                revert InvalidRejectedDeposit(r);
            }
            prevRejected = r + 1;
        }
        if (c.slashes.length > MAX_SLASHES) revert TooManySlashes(c.slashes.length);
        bytes memory slashBytes;
        for (uint256 i = 0; i < c.slashes.length; i++) {
            Slash calldata s = c.slashes[i];
            if (s.role > uint8(Staking.Role.Sequencer)) revert InvalidSlashRole(s.role);
            slashBytes = bytes.concat(slashBytes, abi.encode(s.account, s.role, s.amount, s.reporter));
        }

        Batch storage b = _batches[index];
        b.newStateRoot = c.newStateRoot;
        b.withdrawalRoot = c.withdrawalRoot;
        b.batchDataHash = keccak256(c.batchData);
        b.rejectedDepositsHash = keccak256(abi.encodePacked(c.rejectedDeposits));
        b.slashesHash = keccak256(slashBytes);
        b.feesBurned = uint128(c.feesBurned);
        b.queueEnd = uint64(end);
        b.committedAt = uint64(block.timestamp);
        b.prover = address(0);
        b.finalized = false;
        // A re-used index (after revertBatches) drops the old lists.
        if (_batchRejected[index].length > 0) delete _batchRejected[index];
        if (_batchSlashes[index].length > 0) delete _batchSlashes[index];
        if (c.rejectedDeposits.length > 0) _batchRejected[index] = c.rejectedDeposits;
        for (uint256 i = 0; i < c.slashes.length; i++) {
            _batchSlashes[index].push(c.slashes[i]);
        }
        lastCommittedBatch = index;
        _emitCommitted(index, start, b.batchDataHash, c);
    }

    function _emitCommitted(uint64 index, uint256 start, bytes32 dataHash, CommitInput calldata c) internal {
        emit BatchCommitted(
            index,
            c.newStateRoot,
            c.withdrawalRoot,
            dataHash,
            uint64(start),
            c.queueCount,
            c.feesBurned,
            c.rejectedDeposits,
            c.slashes
        );
    }

    /// @notice The public inputs of a committed batch.
    /// @param batchIndex The batch (committed, index ≥ 1).
    /// @return pi The public inputs the verifier checks.
    function publicInputs(uint256 batchIndex) public view returns (PublicInputs memory pi) {
        if (batchIndex == 0 || batchIndex > lastCommittedBatch) revert UnknownBatch(batchIndex);
        Batch storage b = _batches[batchIndex];
        Batch storage p = _batches[batchIndex - 1];
        pi.l2ChainId = l2ChainId;
        pi.batchIndex = uint64(batchIndex);
        pi.prevStateRoot = p.newStateRoot;
        pi.newStateRoot = b.newStateRoot;
        pi.batchDataHash = b.batchDataHash;
        pi.queueStart = p.queueEnd;
        pi.queueCount = b.queueEnd - p.queueEnd;
        pi.queueHashStart = queueHashAt(p.queueEnd);
        pi.queueHashEnd = queueHashAt(b.queueEnd);
        pi.withdrawalRoot = b.withdrawalRoot;
        pi.feesBurned = b.feesBurned;
        pi.rejectedDepositsHash = b.rejectedDepositsHash;
        pi.slashesHash = b.slashesHash;
    }

    /// @notice `abi.encode(publicInputs(batchIndex))`, the exact bytes the verifier receives.
    /// @param batchIndex The batch.
    /// @return The encoded public inputs (416 bytes).
    function encodedPublicInputs(uint256 batchIndex) external view returns (bytes memory) {
        return abi.encode(publicInputs(batchIndex));
    }

    /// @notice Submits a proof for a committed batch; the first valid one earns `proverReward`
    ///         (or what is left in the pool).
    /// @param batchIndex The batch.
    /// @param proof Proof bytes for the verifier.
    function proveBatch(uint256 batchIndex, bytes calldata proof) external whenBatchesLive {
        if (batchIndex <= lastFinalizedBatch || batchIndex > lastCommittedBatch) revert UnknownBatch(batchIndex);
        Batch storage b = _batches[batchIndex];
        if (b.prover != address(0)) revert AlreadyProven(batchIndex);
        address v = verifier;
        if (v == address(0)) revert VerifierNotSet();
        bytes memory pi = abi.encode(publicInputs(batchIndex));
        bool ok;
        try IVerifier(v).verify(pi, proof) returns (bool r) {
            ok = r;
        } catch {
            ok = false;
        }
        if (!ok) revert InvalidProof(batchIndex);
        b.prover = msg.sender;
        uint256 reward = proverReward;
        if (reward > proverPool) reward = proverPool;
        proverPool -= reward;
        emit BatchProven(batchIndex, msg.sender, reward);
        if (reward > 0) token.safeTransfer(msg.sender, reward);
    }

    /// @notice Finalizes the next batch once proven: credits deposits and burns reported fees on
    ///         the bridge, marks rejected deposits refundable, applies slashes.
    /// @param batchIndex Must be `lastFinalizedBatch + 1`.
    function finalizeBatch(uint256 batchIndex) external whenBatchesLive {
        uint256 expected = uint256(lastFinalizedBatch) + 1;
        if (batchIndex != expected) revert NotNextBatch(expected, batchIndex);
        if (batchIndex > lastCommittedBatch) revert UnknownBatch(batchIndex);
        Batch storage b = _batches[batchIndex];
        if (b.prover == address(0)) revert NotProven(batchIndex);
        b.finalized = true;
        lastFinalizedBatch = uint64(batchIndex);
        lastFinalizedAt = uint64(block.timestamp);

        uint256 start = _batches[batchIndex - 1].queueEnd;
        uint256 end = b.queueEnd;
        uint256 consumed = (end == 0 ? 0 : uint256(_queue[end - 1].cumulativeDeposits))
            - (start == 0 ? 0 : uint256(_queue[start - 1].cumulativeDeposits));
        uint256 rejectedSum;
        uint64[] storage rej = _batchRejected[batchIndex];
        for (uint256 i = 0; i < rej.length; i++) {
            uint256 r = rej[i];
            uint256 amt = queueAmount(r);
            _rejected[r] = true;
            rejectedSum += amt;
            emit DepositRejected(r, amt);
        }
        emit BatchFinalized(batchIndex, b.newStateRoot, b.withdrawalRoot);
        IBridgeHooks(bridge).onBatchFinalized(consumed, rejectedSum, b.feesBurned);
        Slash[] storage sl = _batchSlashes[batchIndex];
        for (uint256 i = 0; i < sl.length; i++) {
            Slash storage s = sl[i];
            uint256 done = staking.slash(s.account, Staking.Role(s.role), s.amount, s.reporter);
            emit SlashApplied(batchIndex, s.account, s.role, done);
        }
    }

    /// @notice Reverts batch `fromIndex` and every later committed batch, when `fromIndex` is
    ///         unproven and older than `proofTimeout` (anyone may call; works while paused).
    /// @param fromIndex First batch to drop.
    function revertBatches(uint256 fromIndex) external {
        if (isEscapeMode()) revert EscapeModeActive();
        if (fromIndex <= lastFinalizedBatch || fromIndex > lastCommittedBatch) revert UnknownBatch(fromIndex);
        Batch storage b = _batches[fromIndex];
        if (b.prover != address(0) || block.timestamp <= uint256(b.committedAt) + proofTimeout) {
            revert CannotRevert(fromIndex);
        }
        uint256 to = lastCommittedBatch;
        lastCommittedBatch = uint64(fromIndex - 1);
        emit BatchesReverted(fromIndex, to);
    }

    /// @notice A stored batch (index 0 is genesis).
    /// @param batchIndex The batch.
    /// @return The batch record (stale data past `lastCommittedBatch` is meaningless).
    function batch(uint256 batchIndex) external view returns (Batch memory) {
        return _batches[batchIndex];
    }

    /// @notice Withdrawal root of a finalized batch.
    /// @param batchIndex The batch.
    /// @return The root.
    function finalizedWithdrawalRoot(uint256 batchIndex) external view returns (bytes32) {
        if (batchIndex == 0 || batchIndex > lastFinalizedBatch) revert NotFinalized(batchIndex);
        return _batches[batchIndex].withdrawalRoot;
    }

    /// @notice State root of the last finalized batch (genesis root before any).
    /// @return The root.
    function finalizedStateRoot() external view returns (bytes32) {
        return _batches[lastFinalizedBatch].newStateRoot;
    }

    // ================================================================== escape hatch

    /// @notice True once escape mode is latched or the escape window has passed.
    /// @return Whether the rollup is (or must be) in escape mode.
    function isEscapeMode() public view returns (bool) {
        return escapeMode || block.timestamp > uint256(lastFinalizedAt) + escapeWindow;
    }

    /// @notice Latches escape mode once no batch has finalized for `escapeWindow` (anyone).
    function activateEscapeMode() external {
        if (escapeMode) return;
        if (!isEscapeMode()) revert EscapeModeNotReady(uint256(lastFinalizedAt) + escapeWindow + 1);
        escapeMode = true;
        emit EscapeModeActivated(lastFinalizedBatch, _batches[lastFinalizedBatch].newStateRoot);
    }

    // ================================================================== guardian

    /// @inheritdoc IGuardianPausable
    function setDepositsPaused(bool paused) external {
        if (msg.sender != guardian && msg.sender != timelock) revert NotGuardian(msg.sender);
        depositsPaused = paused;
        emit DepositsPausedSet(paused, msg.sender);
    }

    /// @inheritdoc IGuardianPausable
    function setBatchesPaused(bool paused) external {
        if (msg.sender != guardian && msg.sender != timelock) revert NotGuardian(msg.sender);
        batchesPaused = paused;
        emit BatchesPausedSet(paused, msg.sender);
    }

    // ================================================================== prover pool

    /// @notice Adds `amount` tokens to the prover reward pool (caller must approve first).
    /// @param amount Amount in base units.
    function fundProverPool(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        proverPool += amount;
        emit ProverPoolFunded(msg.sender, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Takes tokens out of the prover reward pool (timelock only).
    /// @param to Recipient.
    /// @param amount Amount in base units.
    function withdrawProverPool(address to, uint256 amount) external onlyTimelock {
        if (to == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        if (amount > proverPool) revert InsufficientPool(proverPool, amount);
        proverPool -= amount;
        emit ProverPoolWithdrawn(to, amount);
        token.safeTransfer(to, amount);
    }

    // ================================================================== governance

    /// @notice Sets the verifier (timelock only); zero disables proving.
    /// @param v The verifier.
    function setVerifier(address v) external onlyTimelock {
        verifier = v;
        emit AddressSet("verifier", v);
    }

    /// @notice Sets the sequencer (timelock only).
    /// @param s The sequencer.
    function setSequencer(address s) external onlyTimelock {
        if (s == address(0)) revert ZeroAddress();
        sequencer = s;
        emit AddressSet("sequencer", s);
    }

    /// @notice Sets the guardian (timelock only).
    /// @param g The guardian.
    function setGuardian(address g) external onlyTimelock {
        if (g == address(0)) revert ZeroAddress();
        guardian = g;
        emit AddressSet("guardian", g);
    }

    /// @notice Sets the forced-inclusion deadline (timelock only).
    /// @param secs Seconds.
    function setForceInclusionDeadline(uint64 secs) external onlyTimelock {
        forceInclusionDeadline = secs;
        emit ParameterSet("forceInclusionDeadline", secs);
    }

    /// @notice Sets the proof timeout (timelock only); must stay below the escape window.
    /// @param secs Seconds.
    function setProofTimeout(uint64 secs) external onlyTimelock {
        if (secs == 0 || escapeWindow <= secs) revert InvalidWindows(secs, escapeWindow);
        proofTimeout = secs;
        emit ParameterSet("proofTimeout", secs);
    }

    /// @notice Sets the escape window (timelock only); must exceed the proof timeout.
    /// @param secs Seconds.
    function setEscapeWindow(uint64 secs) external onlyTimelock {
        if (secs <= proofTimeout) revert InvalidWindows(proofTimeout, secs);
        if (isEscapeMode()) revert EscapeModeActive();
        escapeWindow = secs;
        emit ParameterSet("escapeWindow", secs);
    }

    /// @notice Sets the per-batch prover reward (timelock only).
    /// @param amount Base units.
    function setProverReward(uint256 amount) external onlyTimelock {
        proverReward = amount;
        emit ParameterSet("proverReward", amount);
    }

    /// @notice Sets the sequencer's minimum sequencer-role stake (timelock only).
    /// @param amount Base units (0 = none).
    function setMinSequencerStake(uint256 amount) external onlyTimelock {
        minSequencerStake = amount;
        emit ParameterSet("minSequencerStake", amount);
    }
}
