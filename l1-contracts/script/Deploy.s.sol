// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "../test/base/Vm.sol";
import {Deployer} from "./Deployer.sol";

/// @title Deploy
/// @notice Deploys the Computronium L1 suite for a genesis preset and writes the deployment JSON.
///         Environment (all optional except on a real network, where PRIVATE_KEY must be set):
///           PRESET                 computronium | tspmo | dpin              (default computronium)
///           PRIVATE_KEY            deployer key (default: anvil account 0)
///           DEPLOYMENT_JSON        output path (default deployments/<chainid>-<preset>.json,
///                                  relative to l1-contracts/)
///           VERIFIER               IVerifier address; unset/0 = deploy the batch STARK verifier
///                                  (src/verifier/) unless DEPLOY_VERIFIER=0, in which case no
///                                  batch can be proven until the timelock calls Rollup.setVerifier
///           SEQUENCER              sequencer address (default deployer)
///           GENESIS_STATE_ROOT     L2 genesis state root (default 0x0)
///           LIQUIDITY_RECIPIENT    receives `liquidity` rows (default deployer)
///           VESTING_BENEFICIARY    beneficiary of every vesting row (default deployer);
///           VESTING_BENEFICIARY_<i> per allocation row i (0-based), overrides the former
///           GUARDIAN_SIGNERS       comma-separated (default deployer), GUARDIAN_THRESHOLD (1)
///           TIMELOCK_DELAY (172800), VOTING_DELAY (86400), VOTING_PERIOD (432000) seconds,
///           PROPOSAL_THRESHOLD (0, base units), QUORUM_PERCENT (4),
///           PROOF_TIMEOUT (86400 s), PROVER_REWARD (0, base units), REWARD_DURATION (126144000 s)
contract Deploy is Deployer {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 internal constant ANVIL_KEY_0 = 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80;

    /// @notice Entry point of `forge script script/Deploy.s.sol`.
    function run() external returns (Deployment memory d) {
        string memory presetName = vm.envOr("PRESET", string("computronium"));
        Preset memory p = _loadPreset(presetName);
        uint256 pk = vm.envOr("PRIVATE_KEY", ANVIL_KEY_0);
        address deployer = vm.addr(pk);
        Params memory q = _params(deployer, p.allocations.length);

        uint256 startBlock = block.number;
        vm.startBroadcast(pk);
        if (q.verifier == address(0) && vm.envOr("DEPLOY_VERIFIER", uint256(1)) != 0) {
            q.verifier = _deployStarkVerifier();
        }
        d = _deployAll(p, q);
        vm.stopBroadcast();

        string memory defaultPath =
            string.concat("deployments/", vm.toString(block.chainid), "-", presetName, ".json");
        string memory path = vm.envOr("DEPLOYMENT_JSON", defaultPath);
        _write(d, q, p, presetName, startBlock, path);
    }

    function _params(address deployer, uint256 rows) internal view returns (Params memory q) {
        q = _defaultParams(deployer, rows);
        q.liquidityRecipient = vm.envOr("LIQUIDITY_RECIPIENT", deployer);
        address allBen = vm.envOr("VESTING_BENEFICIARY", deployer);
        for (uint256 i = 0; i < rows; i++) {
            q.vestingBeneficiaries[i] = vm.envOr(string.concat("VESTING_BENEFICIARY_", vm.toString(i)), allBen);
        }
        q.sequencer = vm.envOr("SEQUENCER", deployer);
        q.verifier = vm.envOr("VERIFIER", address(0));
        q.genesisStateRoot = vm.envOr("GENESIS_STATE_ROOT", bytes32(0));
        q.guardianSigners = vm.envOr("GUARDIAN_SIGNERS", ",", q.guardianSigners);
        q.guardianThreshold = vm.envOr("GUARDIAN_THRESHOLD", q.guardianThreshold);
        q.timelockDelay = vm.envOr("TIMELOCK_DELAY", q.timelockDelay);
        q.votingDelay = uint48(vm.envOr("VOTING_DELAY", uint256(q.votingDelay)));
        q.votingPeriod = uint32(vm.envOr("VOTING_PERIOD", uint256(q.votingPeriod)));
        q.proposalThreshold = vm.envOr("PROPOSAL_THRESHOLD", q.proposalThreshold);
        q.quorumPercent = vm.envOr("QUORUM_PERCENT", q.quorumPercent);
        q.proofTimeout = uint64(vm.envOr("PROOF_TIMEOUT", uint256(q.proofTimeout)));
        q.proverReward = vm.envOr("PROVER_REWARD", q.proverReward);
        q.rewardDurationSecs = vm.envOr("REWARD_DURATION", q.rewardDurationSecs);
    }

    function _write(
        Deployment memory d,
        Params memory q,
        Preset memory p,
        string memory presetName,
        uint256 startBlock,
        string memory path
    ) internal {
        string memory o = "deployment";
        vm.serializeString(o, "preset", presetName);
        vm.serializeUint(o, "chainId", block.chainid);
        vm.serializeUint(o, "l2ChainId", p.l2ChainId);
        vm.serializeUint(o, "deployBlock", startBlock);
        vm.serializeAddress(o, "deployer", q.deployer);
        vm.serializeAddress(o, "token", address(d.token));
        vm.serializeAddress(o, "timelock", address(d.timelock));
        vm.serializeAddress(o, "governor", address(d.governor));
        vm.serializeAddress(o, "vestingVault", address(d.vault));
        vm.serializeAddress(o, "treasury", address(d.treasury));
        vm.serializeAddress(o, "staking", address(d.staking));
        vm.serializeAddress(o, "guardian", address(d.guardian));
        vm.serializeAddress(o, "rollup", address(d.rollup));
        vm.serializeAddress(o, "bridge", address(d.bridge));
        vm.serializeAddress(o, "verifier", q.verifier);
        vm.serializeAddress(o, "sequencer", q.sequencer);
        string memory json = vm.serializeBytes32(o, "genesisStateRoot", q.genesisStateRoot);
        vm.writeJson(json, path);
    }
}
