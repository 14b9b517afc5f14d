// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./Test.sol";
import {Deployer} from "../../script/Deployer.sol";
import {MockVerifier} from "../mocks/MockVerifier.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {CtmToken} from "../../src/Token.sol";
import {VestingVault} from "../../src/VestingVault.sol";
import {Treasury} from "../../src/Treasury.sol";
import {Staking} from "../../src/Staking.sol";
import {Guardian} from "../../src/Guardian.sol";
import {CtmGovernor} from "../../src/Governance.sol";
import {Rollup} from "../../src/Rollup.sol";
import {Bridge} from "../../src/Bridge.sol";
import {CommitInput, Slash} from "../../src/RollupTypes.sol";

/// @notice Deploys a preset with test-friendly parameters and named actors.
abstract contract Fixture is Test, Deployer {
    address internal liq = address(0x11A);
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);
    address internal carol = address(0xCA201);
    address internal seq = address(0x5E0);
    address internal prover = address(0x9807E2);
    address internal g1 = address(0x61);
    address internal g2 = address(0x62);
    address internal g3 = address(0x63);
    address internal teamBen = address(0x7EA);

    MockVerifier internal verifier;
    Deployment internal d;

    // shortcuts
    CtmToken internal token;
    VestingVault internal vault;
    Treasury internal treasury;
    Staking internal staking;
    Guardian internal guardian;
    CtmGovernor internal governor;
    TimelockController internal timelock;
    Rollup internal rollup;
    Bridge internal bridge;
    address internal tl;

    uint256 internal constant E18 = 1e18;
    bytes internal constant GOOD_PROOF = hex"01";

    function _deployPreset(string memory name) internal returns (Preset memory preset) {
        return _deployPresetAt(name, keccak256("genesis"));
    }

    function _deployPresetAt(string memory name, bytes32 genesisRoot) internal returns (Preset memory preset) {
        vm.warp(1_700_000_000);
        verifier = new MockVerifier();
        preset = _loadPreset(name);
        Params memory q = _defaultParams(address(this), preset.allocations.length);
        q.liquidityRecipient = liq;
        for (uint256 i = 0; i < preset.allocations.length; i++) {
            q.vestingBeneficiaries[i] = address(uint160(0xBE00 + i));
        }
        q.sequencer = seq;
        q.verifier = address(verifier);
        q.genesisStateRoot = genesisRoot;
        q.guardianSigners = new address[](3);
        q.guardianSigners[0] = g1;
        q.guardianSigners[1] = g2;
        q.guardianSigners[2] = g3;
        q.guardianThreshold = 2;
        q.timelockDelay = 1 days;
        q.votingDelay = 1 hours;
        q.votingPeriod = 3 days;
        q.proverReward = 10 * E18;
        Deployment memory dd = _deployAll(preset, q);
        d = dd;
        token = dd.token;
        vault = dd.vault;
        treasury = dd.treasury;
        staking = dd.staking;
        guardian = dd.guardian;
        governor = dd.governor;
        timelock = dd.timelock;
        rollup = dd.rollup;
        bridge = dd.bridge;
        tl = address(dd.timelock);
        vm.label(address(token), "token");
        vm.label(address(rollup), "rollup");
        vm.label(address(bridge), "bridge");
        vm.label(tl, "timelock");
    }

    function _fund(address to, uint256 amount) internal {
        vm.prank(liq);
        token.transfer(to, amount);
    }

    function _deposit(address from, address l2, uint256 amount) internal returns (uint256 idx) {
        _fund(from, amount);
        vm.startPrank(from);
        token.approve(address(bridge), amount);
        idx = bridge.deposit(l2, amount);
        vm.stopPrank();
    }

    function _commitInput(uint64 index, uint64 queueCount) internal pure returns (CommitInput memory c) {
        c.batchIndex = index;
        c.newStateRoot = keccak256(abi.encode("state", index));
        c.withdrawalRoot = bytes32(0);
        c.queueCount = queueCount;
        c.feesBurned = 0;
        c.batchData = abi.encodePacked("batch", index);
        c.rejectedDeposits = new uint64[](0);
        c.slashes = new Slash[](0);
    }

    function _commit(CommitInput memory c) internal {
        vm.prank(seq);
        rollup.commitBatch(c);
    }

    function _commitProveFinalize(CommitInput memory c) internal {
        _commit(c);
        vm.prank(prover);
        rollup.proveBatch(c.batchIndex, GOOD_PROOF);
        rollup.finalizeBatch(c.batchIndex);
    }

    function _fundProverPool(uint256 amount) internal {
        _fund(address(this), amount);
        token.approve(address(rollup), amount);
        rollup.fundProverPool(amount);
    }

    /// Builds an indexed keccak withdrawal tree (padded with zero leaves) and a proof for `idx`.
    function _withdrawalTree(bytes32[] memory leaves, uint256 idx)
        internal
        pure
        returns (bytes32 root, bytes32[] memory proof)
    {
        uint256 n = 1;
        uint256 depth;
        while (n < leaves.length) {
            n <<= 1;
            depth++;
        }
        bytes32[] memory level = new bytes32[](n);
        for (uint256 i = 0; i < leaves.length; i++) {
            level[i] = leaves[i];
        }
        proof = new bytes32[](depth);
        uint256 pos = idx;
        for (uint256 k = 0; k < depth; k++) {
            proof[k] = level[pos ^ 1];
            bytes32[] memory next = new bytes32[](level.length / 2);
            for (uint256 i = 0; i < next.length; i++) {
                next[i] = keccak256(abi.encodePacked(level[2 * i], level[2 * i + 1]));
            }
            level = next;
            pos >>= 1;
        }
        root = level[0];
    }
}
