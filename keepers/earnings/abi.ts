import { parseAbi } from "viem";

/*
 * The parts of RevenueRouter and EarningsDistributor the earnings keeper and the CLI use, as typed viem ABIs.
 * test/keepers/earnings/abi.test.ts checks every fragment against the compiled contracts, so they cannot drift.
 */

export const routerAbi = parseAbi([
  "event Paid(uint256 indexed agentId, address indexed token, uint256 indexed epoch, uint256 gross, uint256 agentShare, bytes32 ref)",
  "function bucketOf(uint256 epoch, address token) view returns (uint256)",
  "function currentEpoch() view returns (uint256)",
  "function genesis() view returns (uint256)",
  "function epochLength() view returns (uint256)",
  "function distributor() view returns (address)",
]);

export const distributorAbi = parseAbi([
  "event RootPosted(uint256 indexed epoch, address indexed token, bytes32 root, uint256 total, string uri, uint64 claimableAt)",
  "event RootCancelled(uint256 indexed epoch, address indexed token, bytes28 root, address indexed guardian)",
  "event Claimed(uint256 indexed epoch, address indexed token, uint256 indexed agentId, uint256 amount, uint256 personal, uint256 infrastructure, uint256 commons)",
  "function postRoot(uint256 epoch, address token, bytes32 root, uint256 total, string uri)",
  "function claim(uint256 epoch, address token, uint256 agentId, uint256 amount, bytes32[] proof)",
  "function claimMany(uint256 epoch, address token, (uint256 agentId, uint256 amount, bytes32[] proof)[] claims) returns (uint256 paid)",
  "function sweepExpired(uint256 epoch, address token) returns (uint256 amount)",
  "function epochInfo(uint256 epoch, address token) view returns ((bytes28 root, uint64 claimableAt, uint64 expiresAt, bool opened, bool swept, uint256 remaining))",
  "function isClaimed(uint256 epoch, address token, uint256 agentId) view returns (bool)",
  "function claimPeriod() view returns (uint256)",
  "function challengeWindow() view returns (uint256)",
  "function router() view returns (address)",
  "function treasury() view returns (address)",
]);

/** Every custom error the distributor can revert with, its own and the router's it bubbles up: for decoding. */
export const earningsErrorsAbi = parseAbi([
  "error AccessControlBadConfirmation()",
  "error AccessControlUnauthorizedAccount(address,bytes32)",
  "error AgentSignedExpired(uint256)",
  "error AgentSignedInvalidSignature(uint256,address)",
  "error AgentSignedNonceUsed(uint256,uint256)",
  "error AgentSignedNotAgentSigner(uint256,address)",
  "error EarningsDistributorAlreadyClaimed(uint256,address,uint256)",
  "error EarningsDistributorBelowCommonsFloor(uint16,uint16)",
  "error EarningsDistributorChallengeWindowOver(uint256,address,uint64)",
  "error EarningsDistributorChallengeWindowRunning(uint256,address,uint64)",
  "error EarningsDistributorEmptyEpoch(uint256,address)",
  "error EarningsDistributorEpochNotClosed(uint256,uint256)",
  "error EarningsDistributorExceedsRemaining(uint256,address,uint256,uint256)",
  "error EarningsDistributorExpired(uint256,address,uint64)",
  "error EarningsDistributorInvalidCommonsFloor(uint16)",
  "error EarningsDistributorInvalidProof(uint256,address,uint256,uint256)",
  "error EarningsDistributorInvalidSplit(uint16,uint16,uint16)",
  "error EarningsDistributorInvalidWindows(uint256,uint256)",
  "error EarningsDistributorNoRoot(uint256,address)",
  "error EarningsDistributorNotExpired(uint256,address,uint64)",
  "error EarningsDistributorReleaseMismatch(uint256,address,uint256,uint256)",
  "error EarningsDistributorRootExists(uint256,address)",
  "error EarningsDistributorSwept(uint256,address)",
  "error EarningsDistributorTotalMismatch(uint256,address,uint256,uint256)",
  "error EarningsDistributorTotalTooLarge(uint256)",
  "error EarningsDistributorZeroAddress()",
  "error EarningsDistributorZeroAmount()",
  "error EarningsDistributorZeroRoot()",
  "error InvalidShortString()",
  "error StringTooLong(string)",
  "error FailedCall()",
  "error InsufficientBalance(uint256,uint256)",
  "error ReentrancyGuardReentrantCall()",
  "error RevenueRouterAlreadyBound()",
  "error RevenueRouterEpochNotClosed(uint256,uint256)",
  "error RevenueRouterFeeOnTransfer(address,uint256,uint256)",
  "error RevenueRouterInvalidEpochs(uint256,uint256)",
  "error RevenueRouterInvalidOperatorSignature(uint256,address)",
  "error RevenueRouterInvalidSplit(uint256,uint256)",
  "error RevenueRouterNotDistributor(address)",
  "error RevenueRouterNotOperator(uint256,address)",
  "error RevenueRouterNothingToWithdraw(address,address)",
  "error RevenueRouterTokenNotAccepted(address)",
  "error RevenueRouterWrongValue(uint256,uint256)",
  "error RevenueRouterZeroAddress()",
  "error RevenueRouterZeroAmount()",
  "error SafeERC20FailedOperation(address)",
]);
