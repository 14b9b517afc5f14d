// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "../test/base/Vm.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {CtmToken} from "../src/Token.sol";
import {VestingVault} from "../src/VestingVault.sol";
import {Treasury} from "../src/Treasury.sol";
import {Staking} from "../src/Staking.sol";
import {Guardian} from "../src/Guardian.sol";
import {CtmGovernor} from "../src/Governance.sol";
import {Rollup} from "../src/Rollup.sol";
import {Bridge} from "../src/Bridge.sol";
import {IGuardianPausable} from "../src/interfaces/IPausable.sol";
import {BatchStarkVerifier, IConstraintEvaluator} from "../src/verifier/BatchStarkVerifier.sol";
import {BatchAirConstraints} from "../src/verifier/BatchAirConstraints.sol";
import {BatchVerifierSeeds} from "../src/verifier/BatchVerifierSeeds.sol";

/// @title Deployer
/// @notice Reads a genesis preset (core/presets/<name>.toml) and deploys the whole L1 suite with
///         CREATE-address prediction, so every contract gets its peers' addresses in its constructor
///         and the token mints the genesis supply straight to the allocation holders. Shared by
///         script/Deploy.s.sol and the tests.
abstract contract Deployer {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @notice A preset's `holder` is not vesting | liquidity | treasury | staking_rewards.
    error UnknownHolder(string holder);
    /// @notice A preset's `release` is not unlocked | monthly | linear.
    error UnknownRelease(string release);
    /// @notice The allocations do not sum to `total_supply`.
    error AllocationSumMismatch(uint256 sum, uint256 totalSupply);
    /// @notice A deployed address differs from its prediction.
    error AddressPredictionFailed(string name);

    /// @notice One `[[allocations]]` row.
    struct Allocation {
        string name;
        string holder;
        uint256 amount; // whole tokens
        string release;
        uint32 cliffMonths;
        uint32 vestingMonths;
        bool revocable;
    }

    /// @notice The fields of a preset this suite uses.
    struct Preset {
        string name;
        string tokenName;
        string symbol;
        uint8 decimals;
        uint256 totalSupply; // whole tokens
        uint64 l2ChainId;
        uint64 depositDeadlineSecs;
        uint64 escapeHatchSecs;
        uint256 minProviderStake; // whole tokens
        uint256 providerUnbondingSecs;
        uint256 slashBurnBps;
        Allocation[] allocations;
    }

    /// @notice Deployment choices not in the preset (env-overridable in the script).
    struct Params {
        address deployer;
        address liquidityRecipient;
        address[] vestingBeneficiaries; // one per allocation row (used for vesting rows only)
        address sequencer;
        address verifier;
        bytes32 genesisStateRoot;
        address[] guardianSigners;
        uint256 guardianThreshold;
        uint256 timelockDelay;
        uint48 votingDelay;
        uint32 votingPeriod;
        uint256 proposalThreshold;
        uint256 quorumPercent;
        uint64 proofTimeout;
        uint256 proverReward;
        uint256 rewardDurationSecs; // staking reward rate = staking allocation / this
    }

    /// @notice Deployed addresses.
    struct Deployment {
        TimelockController timelock;
        CtmGovernor governor;
        CtmToken token;
        VestingVault vault;
        Treasury treasury;
        Staking staking;
        Guardian guardian;
        Rollup rollup;
        Bridge bridge;
    }

    /// @notice Reads core/presets/<name>.toml (relative to l1-contracts/).
    function _loadPreset(string memory name) internal view returns (Preset memory p) {
        string memory toml = VM.readFile(string.concat(VM.projectRoot(), "/../core/presets/", name, ".toml"));
        p.name = VM.parseTomlString(toml, ".name");
        p.tokenName = VM.parseTomlString(toml, ".token.name");
        p.symbol = VM.parseTomlString(toml, ".token.symbol");
        p.decimals = uint8(VM.parseTomlUint(toml, ".token.decimals"));
        p.totalSupply = VM.parseTomlUint(toml, ".token.total_supply");
        p.l2ChainId = uint64(VM.parseTomlUint(toml, ".chain.chain_id"));
        p.depositDeadlineSecs = uint64(VM.parseTomlUint(toml, ".chain.deposit_deadline_secs"));
        p.escapeHatchSecs = uint64(VM.parseTomlUint(toml, ".chain.escape_hatch_secs"));
        p.minProviderStake = VM.parseTomlUint(toml, ".marketplace.min_provider_stake");
        p.providerUnbondingSecs = VM.parseTomlUint(toml, ".marketplace.provider_unbonding_secs");
        p.slashBurnBps = VM.parseTomlUint(toml, ".marketplace.slash_burn_bps");
        uint256 n;
        while (VM.keyExistsToml(toml, string.concat(".allocations[", VM.toString(n), "].name"))) n++;
        p.allocations = new Allocation[](n);
        for (uint256 i = 0; i < n; i++) {
            string memory k = string.concat(".allocations[", VM.toString(i), "]");
            Allocation memory a = p.allocations[i];
            a.name = VM.parseTomlString(toml, string.concat(k, ".name"));
            a.holder = VM.parseTomlString(toml, string.concat(k, ".holder"));
            a.amount = VM.parseTomlUint(toml, string.concat(k, ".amount"));
            a.release = VM.parseTomlString(toml, string.concat(k, ".release"));
            if (VM.keyExistsToml(toml, string.concat(k, ".cliff_months"))) {
                a.cliffMonths = uint32(VM.parseTomlUint(toml, string.concat(k, ".cliff_months")));
            }
            if (VM.keyExistsToml(toml, string.concat(k, ".vesting_months"))) {
                a.vestingMonths = uint32(VM.parseTomlUint(toml, string.concat(k, ".vesting_months")));
            }
            if (VM.keyExistsToml(toml, string.concat(k, ".revocable"))) {
                a.revocable = VM.parseTomlBool(toml, string.concat(k, ".revocable"));
            }
        }
    }

    /// @notice Defaults for `Params` (production-like governance timings).
    function _defaultParams(address deployer, uint256 allocationCount) internal pure returns (Params memory q) {
        q.deployer = deployer;
        q.liquidityRecipient = deployer;
        q.vestingBeneficiaries = new address[](allocationCount);
        for (uint256 i = 0; i < allocationCount; i++) {
            q.vestingBeneficiaries[i] = deployer;
        }
        q.sequencer = deployer;
        q.verifier = address(0);
        q.guardianSigners = new address[](1);
        q.guardianSigners[0] = deployer;
        q.guardianThreshold = 1;
        q.timelockDelay = 2 days;
        q.votingDelay = 1 days;
        q.votingPeriod = 5 days;
        q.proposalThreshold = 0;
        q.quorumPercent = 4;
        q.proofTimeout = 1 days;
        q.proverReward = 0;
        q.rewardDurationSecs = 4 * 365 days;
    }

    function _eq(string memory a, string memory b) internal pure returns (bool) {
        return keccak256(bytes(a)) == keccak256(bytes(b));
    }

    function _release(string memory r) internal pure returns (VestingVault.Release) {
        if (_eq(r, "unlocked")) return VestingVault.Release.Unlocked;
        if (_eq(r, "monthly")) return VestingVault.Release.Monthly;
        if (_eq(r, "linear")) return VestingVault.Release.Linear;
        revert UnknownRelease(r);
    }

    /// @notice Number of vesting rows of a preset.
    function _vestingRows(Preset memory p) internal pure returns (uint256 n) {
        for (uint256 i = 0; i < p.allocations.length; i++) {
            if (_eq(p.allocations[i].holder, "vesting")) n++;
        }
    }

    struct Predicted {
        address timelock;
        address governor;
        address token;
        address vault;
        address treasury;
        address staking;
        address guardian;
        address rollup;
        address bridge;
    }

    function _predict(address deployer) internal view returns (Predicted memory a) {
        uint256 n = VM.getNonce(deployer);
        a.token = VM.computeCreateAddress(deployer, n);
        a.timelock = VM.computeCreateAddress(deployer, n + 1);
        a.governor = VM.computeCreateAddress(deployer, n + 2);
        a.vault = VM.computeCreateAddress(deployer, n + 3);
        a.treasury = VM.computeCreateAddress(deployer, n + 4);
        a.staking = VM.computeCreateAddress(deployer, n + 5);
        a.guardian = VM.computeCreateAddress(deployer, n + 6);
        a.rollup = VM.computeCreateAddress(deployer, n + 7);
        a.bridge = VM.computeCreateAddress(deployer, n + 8);
    }

    /// @notice Deploys everything; `q.deployer` must be the account whose CREATEs follow
    ///         (the test contract itself, or the broadcasting EOA in a script).
    /// @notice Deploys the batch STARK verifier: the generated constraint evaluator, the
    ///         generated transcript seeds and the verifier itself.
    /// @return The verifier (an IVerifier).
    function _deployStarkVerifier() internal returns (address) {
        BatchAirConstraints constraints = new BatchAirConstraints();
        BatchVerifierSeeds seeds = new BatchVerifierSeeds();
        return address(new BatchStarkVerifier(IConstraintEvaluator(address(constraints)), seeds));
    }

    function _deployAll(Preset memory p, Params memory q) internal returns (Deployment memory d) {
        Predicted memory a = _predict(q.deployer);

        // 0: token, minted to the allocation holders
        uint256 stakingAlloc;
        {
            uint256 unit = 10 ** uint256(p.decimals);
            address[] memory holders = new address[](p.allocations.length);
            uint256[] memory amounts = new uint256[](p.allocations.length);
            uint256 sum;
            for (uint256 i = 0; i < p.allocations.length; i++) {
                Allocation memory al = p.allocations[i];
                if (_eq(al.holder, "vesting")) holders[i] = a.vault;
                else if (_eq(al.holder, "liquidity")) holders[i] = q.liquidityRecipient;
                else if (_eq(al.holder, "treasury")) holders[i] = a.treasury;
                else if (_eq(al.holder, "staking_rewards")) holders[i] = a.staking;
                else revert UnknownHolder(al.holder);
                amounts[i] = al.amount * unit;
                sum += al.amount;
                if (holders[i] == a.staking) stakingAlloc += amounts[i];
            }
            if (sum != p.totalSupply) revert AllocationSumMismatch(sum, p.totalSupply);
            d.token = new CtmToken(p.tokenName, p.symbol, p.decimals, holders, amounts);
        }
        // 1: timelock — the governor proposes/cancels, anyone executes, no admin.
        {
            address[] memory proposers = new address[](1);
            proposers[0] = a.governor;
            address[] memory executors = new address[](1);
            executors[0] = address(0);
            d.timelock = new TimelockController(q.timelockDelay, proposers, executors, address(0));
        }
        // 2: governor
        d.governor = new CtmGovernor(
            IVotes(a.token),
            TimelockController(payable(a.timelock)),
            q.votingDelay,
            q.votingPeriod,
            q.proposalThreshold,
            q.quorumPercent
        );
        // 3: vesting vault
        {
            VestingVault.ScheduleInit[] memory inits = new VestingVault.ScheduleInit[](_vestingRows(p));
            uint256 unit = 10 ** uint256(p.decimals);
            uint256 j;
            for (uint256 i = 0; i < p.allocations.length; i++) {
                Allocation memory al = p.allocations[i];
                if (!_eq(al.holder, "vesting")) continue;
                inits[j++] = VestingVault.ScheduleInit({
                    beneficiary: q.vestingBeneficiaries[i],
                    total: al.amount * unit,
                    release: _release(al.release),
                    cliffMonths: al.cliffMonths,
                    vestingMonths: al.vestingMonths,
                    revocable: al.revocable
                });
            }
            d.vault = new VestingVault(IERC20(a.token), a.treasury, a.timelock, uint64(block.timestamp), inits);
        }
        // 4: treasury
        d.treasury = new Treasury(d.token, a.timelock);
        // 5: staking
        d.staking = new Staking(
            d.token,
            a.timelock,
            a.rollup,
            p.providerUnbondingSecs,
            p.slashBurnBps,
            q.rewardDurationSecs == 0 ? 0 : stakingAlloc / q.rewardDurationSecs,
            p.minProviderStake * 10 ** uint256(p.decimals)
        );
        // 6: guardian
        d.guardian = new Guardian(IGuardianPausable(a.rollup), q.guardianSigners, q.guardianThreshold);
        // 7: rollup
        d.rollup = new Rollup(
            Rollup.Config({
                token: IERC20(a.token),
                bridge: a.bridge,
                staking: Staking(a.staking),
                timelock: a.timelock,
                guardian: a.guardian,
                verifier: q.verifier,
                sequencer: q.sequencer,
                l2ChainId: p.l2ChainId,
                genesisStateRoot: q.genesisStateRoot,
                forceInclusionDeadline: p.depositDeadlineSecs,
                proofTimeout: q.proofTimeout,
                escapeWindow: p.escapeHatchSecs,
                proverReward: q.proverReward
            })
        );
        // 8: bridge
        d.bridge = new Bridge(d.token, Rollup(a.rollup));

        if (address(d.timelock) != a.timelock) revert AddressPredictionFailed("timelock");
        if (address(d.governor) != a.governor) revert AddressPredictionFailed("governor");
        if (address(d.token) != a.token) revert AddressPredictionFailed("token");
        if (address(d.vault) != a.vault) revert AddressPredictionFailed("vault");
        if (address(d.treasury) != a.treasury) revert AddressPredictionFailed("treasury");
        if (address(d.staking) != a.staking) revert AddressPredictionFailed("staking");
        if (address(d.guardian) != a.guardian) revert AddressPredictionFailed("guardian");
        if (address(d.rollup) != a.rollup) revert AddressPredictionFailed("rollup");
        if (address(d.bridge) != a.bridge) revert AddressPredictionFailed("bridge");
    }
}
